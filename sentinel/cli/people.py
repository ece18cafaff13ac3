"""People and what they hand in: ``sentinel report`` (报案, and the weekly report) and
``sentinel user ...`` (people, roles, console passwords). The rules are the domain's
(alerting.incidents.manual, users, roles); these commands read options and print."""

from __future__ import annotations

import sys

import click

from core.vocabulary import Category, Role
from sentinel.cli.base import VocabChoice, acting_user, cli, json_option, pass_app, print_json
from sentinel.cli.incidents import _done, _now, _outbox


# -- manual reports (报案) and the weekly report ----------------------------------------
@cli.group("report", invoke_without_command=True)
@click.option("--title", help="简短标题")
@click.option("--note", help="情况说明：看到了什么、在哪里看到（如某 QQ 群），还知道什么")
@click.option("--url", help="发现问题的网页地址（可不填：群聊截图等没有网址的情况）")
@click.option(
    "--file",
    "paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="截图、照片、PDF 或文本文件，作为证据保存（可多次给出）",
)
@click.option("--by", "by", metavar="NAME", help="报案人（已登记的用户）；默认 $SENTINEL_USER")
@click.option(
    "--category", type=VocabChoice(Category), help="报案人认为的性质类别（与系统的判断并列保存）"
)
@json_option
@pass_app
@click.pass_context
def report_group(ctx, app, title, note, url, paths, by, category, as_json):
    """报案：报告发现的舆情（新立事件或并入已有事件）；`sentinel report weekly` 生成网络舆情周报。"""
    if ctx.invoked_subcommand is not None:
        return
    if not url and not (title and note):
        raise click.UsageError(
            "报案需要 --title 标题 和 --note 情况说明（可加 --url 网址、--file 截图）"
        )
    by = acting_user(by)
    from alerting.incidents import files, manual, roles

    with app.db.session() as s:  # the reporter first: a stranger causes no fetch at all
        roles.require(s, by, "报案", roles=roles.EVERYONE)
        fetch = manual.needs_fetch(s, url)
    uploads = [files.read_path(p, app.config) for p in paths]
    for u in uploads:
        files.check(u, app.config)
    # The page is fetched outside the transaction, so a slow site holds no database lock.
    fetched = manual.fetch_page(url.strip(), app.config) if fetch else None
    with app.db.session() as s:
        r = manual.report(
            s,
            url=url,
            title=title,
            note=note,
            by=by,
            config=app.config,
            outbox=_outbox(app),
            now=_now(),
            uploads=uploads,
            category=category,
            fetched=fetched,
        )
        iid, page = r.incident.id, r.page
        kept = [{"filename": i.filename, "sha256": i.sha256} for i in r.files]
    _done(
        app,
        as_json,
        iid,
        "已立案" if r.opened else "已并入已有事件",
        {"opened": r.opened, "page": page, "files": kept},
    )
    if as_json:
        return
    if page and page.get("error"):
        click.echo(f"网页未能保存快照：{page['error']}（报案已记录）")
    elif page and page.get("sha256"):
        click.echo(f"网页快照已保存为证据：SHA-256 {page['sha256']}")
    for k in kept:
        click.echo(f"附件已保存为证据：{k['filename']}  SHA-256 {k['sha256']}")


@report_group.command("weekly")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="输出文件：文件名.html 或 文件名.md",
)
@click.option("--days", default=7, show_default=True, type=click.IntRange(min=1), help="统计天数")
@json_option
@pass_app
def weekly_cmd(app, out, days, as_json):
    """生成网络舆情周报。"""
    from alerting.incidents import review

    fmt = review.format_of(out)
    with app.db.session() as s:
        text = review.render_weekly(s, app.config, _now(), fmt, days=days)
    path = review.write(out, text)
    if as_json:
        print_json({"file": str(path), "format": fmt, "days": days})
    else:
        click.echo(f"周报已写入 {path}")


# -- users -----------------------------------------------------------------------------
@cli.group("user")
def user_group():
    """人员：舆情办工作人员、学院领导、单位信息管理员。"""


def _print_user(app, as_json, u_dict):
    if as_json:
        print_json(u_dict)
    else:
        click.echo(
            f"{u_dict['name']}（{u_dict['role_label']}）{u_dict['email'] or ''} {u_dict['unit'] or ''}".strip()
        )


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=VocabChoice(Role), default="office", show_default=True)
@click.option("--email", help="电子邮件地址（确认收到报告时按它核对报送名单）")
@click.option("--unit", help="所在单位（单位信息管理员必填）")
@json_option
@pass_app
def user_add(app, name, role, email, unit, as_json):
    """添加用户。"""
    from alerting.incidents import users

    with app.db.session() as s:
        d = users.to_dict(users.add(s, name, role=role, email=email, unit=unit))
    _print_user(app, as_json, d)


@user_group.command("list")
@click.option("--role", type=VocabChoice(Role))
@click.option("--all", "include_inactive", is_flag=True, help="包括已停用的用户")
@json_option
@pass_app
def user_list(app, role, include_inactive, as_json):
    """列出用户。"""
    from alerting.incidents import users

    with app.db.session() as s:
        rows = [
            users.to_dict(u) for u in users.listing(s, role=role, include_inactive=include_inactive)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("尚无用户；添加：sentinel user add 姓名 --role office --email 地址")
    for r in rows:
        _print_user(app, False, r)


@user_group.command("set")
@click.argument("name")
@click.option("--role", type=VocabChoice(Role))
@click.option("--email")
@click.option("--unit")
@json_option
@pass_app
def user_set(app, name, role, email, unit, as_json):
    """修改用户的角色、邮箱或单位。"""
    from alerting.incidents import users

    with app.db.session() as s:
        d = users.to_dict(users.update(s, name, role=role, email=email, unit=unit))
    _print_user(app, as_json, d)


@user_group.command("remove")
@click.argument("name")
@json_option
@pass_app
def user_remove(app, name, as_json):
    """停用用户（以往事件中的记录保留）。"""
    from alerting.incidents import users

    with app.db.session() as s:
        d = users.to_dict(users.update(s, name, active=False))
    _print_user(app, as_json, d)


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取一行作为密码（供脚本使用）")
@json_option
@pass_app
def user_passwd(app, name, password_stdin, as_json):
    """设置用户登录控制台的密码（只保存 argon2 哈希）。"""
    from alerting.incidents import users

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("新密码", hide_input=True, prompt_suffix="：")
        if click.prompt("再输入一次", hide_input=True, prompt_suffix="：") != password:
            raise click.ClickException("两次输入的密码不一致，未作修改")
    with app.db.session() as s:
        d = users.to_dict(users.set_password(s, name, password))
    if as_json:
        print_json(d)
    else:
        click.echo(f"已设置 {d['name']} 的控制台密码")
