"""Every document the office gets, from the demo scenario run on a controllable clock,
and the guard that reads each one as the office reads it.

``run_scenario`` plays the demo world (the GBK forum, the news site and its feed, the
Tieba-style bar) through the real pipeline into a real aiosmtpd mailbox, with two more
sources the office must hear about (a feed that fails and recovers, a site whose pages
say 加载中 instead of their posts), works the incidents as the office would, lets the
canteen story come back in tracking and the rumour come back 40 days after it was
closed, and passes the deadlines. ``Documents`` holds what came out: every mail
(subject, text and HTML parts, parsed with the standard library), the digest, each
incident's review and ``incident show``, the weekly report, ``incidents`` and ``status``.

``problems(text, stamps)`` is the guard: a Python repr, the word None, a UTC time (an
offset, a Z timestamp, or a stored time rendered in UTC), an internal English key, a
traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

SHANGHAI = ZoneInfo("Asia/Shanghai")
EPOCH = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
JS_PAGE = (
    "<html><head><meta charset='utf-8'><title>校园网</title></head><body><div id='app'>加载中……</div>"
    "<noscript>请开启 JavaScript 后查看</noscript><script>render()</script></body></html>"
)


def _rss(items: list[tuple[str, str, str, datetime]]) -> str:
    entries = "".join(
        f"<item><title>{t}</title><link>{u}</link><description>{d}</description>"
        f"<pubDate>{p.strftime('%a, %d %b %Y %H:%M:%S %z')}</pubDate><guid>{u}</guid></item>"
        for t, d, u, p in items
    )
    return f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>网</title>{entries}</channel></rss>"


@dataclass
class Mail:
    name: str
    to: str
    subject: str
    text: str
    html: str
    date: str
    message: EmailMessage


@dataclass
class Documents:
    """What the office got, by kind."""

    mails: list[Mail] = field(default_factory=list)
    digest_html: str = ""
    digest_text: str = ""
    digest_subject: str = ""
    reviews: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (html, md)
    shows: dict[int, str] = field(default_factory=dict)
    weekly_html: str = ""
    weekly_md: str = ""
    incidents: str = ""
    status: str = ""
    cli: dict[str, str] = field(default_factory=dict)  # more of what the office types: stats…
    stamps: set[datetime] = field(default_factory=set)  # every stored time
    facts: dict = field(default_factory=dict)  # ids and times the tests ask about

    def all(self) -> list[tuple[str, str]]:
        """(name, text as the office reads it) of every document."""
        out = []
        for m in self.mails:
            out += [
                (f"{m.name} subject", m.subject),
                (f"{m.name} text", m.text),
                (f"{m.name} html", visible_text(m.html)),
            ]
        out += [
            ("digest subject", self.digest_subject),
            ("digest text", self.digest_text),
            ("digest html", visible_text(self.digest_html)),
        ]
        for iid, (html, md) in self.reviews.items():
            out += [(f"review #{iid} html", visible_text(html)), (f"review #{iid} md", md)]
        out += [(f"incident show {iid}", text) for iid, text in self.shows.items()]
        out += [
            ("weekly html", visible_text(self.weekly_html)),
            ("weekly md", self.weekly_md),
            ("incidents", self.incidents),
            ("status", self.status),
        ]
        out += [(f"sentinel {name}", text) for name, text in self.cli.items()]
        return out

    def mails_about(self, incident_id: int) -> list[Mail]:
        return [m for m in self.mails if f"#{incident_id}" in m.text]

    def write(self, folder: Path) -> None:
        """Every document as a file (tests/artifacts/office/, not committed), to look at."""
        folder.mkdir(parents=True, exist_ok=True)
        for i, m in enumerate(self.mails):
            (folder / f"mail-{i:02d}.html").write_text(m.html, encoding="utf-8")
            (folder / f"mail-{i:02d}.txt").write_text(
                f"To: {m.to}\nSubject: {m.subject}\nDate: {m.date}\n\n{m.text}", encoding="utf-8"
            )
        (folder / "digest.html").write_text(self.digest_html, encoding="utf-8")
        (folder / "digest.txt").write_text(
            self.digest_subject + "\n\n" + self.digest_text, encoding="utf-8"
        )
        for iid, (html, md) in self.reviews.items():
            (folder / f"review-{iid}.html").write_text(html, encoding="utf-8")
            (folder / f"review-{iid}.md").write_text(md, encoding="utf-8")
            (folder / f"show-{iid}.txt").write_text(self.shows[iid], encoding="utf-8")
        (folder / "weekly.html").write_text(self.weekly_html, encoding="utf-8")
        (folder / "weekly.md").write_text(self.weekly_md, encoding="utf-8")
        (folder / "incidents.txt").write_text(self.incidents, encoding="utf-8")
        (folder / "status.txt").write_text(self.status, encoding="utf-8")
        for name, text in self.cli.items():
            (folder / f"cli-{name.split()[0]}.txt").write_text(text, encoding="utf-8")


class _Visible(HTMLParser):
    """The text a reader sees: no <style>, no <script>, tags dropped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._skip += 1
        if tag in ("p", "div", "tr", "li", "br", "h1", "h2", "h3", "td", "th"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Visible()
    p.feed(html)
    return "".join(p.parts)


# -- the guard --------------------------------------------------------------------------
_REPR = re.compile(
    r"<[A-Za-z_][\w.]* object at 0x|datetime\.(datetime|date|timedelta)\(|\{'[^']*': |\['[^']*'[,\]]"
    r"|\b(None|True|False)\b|ZoneInfo\(|Decimal\("
)
_UTC = re.compile(
    r"\+00:?00\b|\bUTC\b|\bGMT\b|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?\b|\d\d:\d\dZ\b"
)
_TRACE = re.compile(
    r"Traceback \(most recent call last\)|\b\w+(Error|Exception)\b|File \"[^\"]+\", line \d+"
)
# What may stand in a document in ASCII without being one of our stored keys: links,
# addresses, the commands the office types, config keys named in hints, file names.
_ALLOWED = re.compile(
    r"https?://\S+|[\w.+-]+@[\w.-]+|sentinel(\s+(--?[\w-]+|[\w#./=-]+|姓名|\S+\.(zip|html|md)))+"
    r"|robots\.txt|\w+\.(yaml|html|md|zip|eml)|\b\w+:\s*(true|false)\b|SHA-?256"
)


BUILT_IN_SOURCES = ("manual-report",)


def group_keys() -> set[str]:
    return {"office", "leaders", "superior"}


def checklist_keys() -> set[str]:
    """The plan's checklist items by their code (``reply_online``): the office finds an
    item by its number or title, never reads its code."""
    from alerting.incidents import playbooks

    return {i.key for pb in playbooks.load().values() for i in pb.items}


def keys() -> set[str]:
    from core.vocabulary import internal_keys

    return internal_keys() | group_keys() | checklist_keys()


def utc_renderings(stamps: set[datetime]) -> set[str]:
    """A stored time as it would read in UTC, where that differs from every time the
    office legitimately reads (a stored time in Beijing time)."""
    local = set()
    utc = set()
    for t in stamps:
        for style in ("%Y-%m-%d %H:%M", "%m-%d %H:%M"):
            local.add(t.astimezone(SHANGHAI).strftime(style))
            utc.add(t.astimezone(UTC).strftime(style))
    return utc - local


def problems(text: str, utc_forms: set[str] = frozenset()) -> list[str]:
    """What the office must never read in ``text``, each with its context."""
    found = []

    def ctx(m):
        return text[max(0, m.start() - 30) : m.end() + 30].replace("\n", " ")

    for kind, pattern in (("repr", _REPR), ("UTC", _UTC), ("traceback", _TRACE)):
        for m in pattern.finditer(text):
            found.append(f"{kind}: …{ctx(m)}…")
    for form in utc_forms:
        i = text.find(form)
        if i >= 0:
            found.append(f"UTC time {form}: …{text[max(0, i - 30) : i + 46]}…")
    stripped = _ALLOWED.sub(" ", text)
    for name in BUILT_IN_SOURCES:  # a source the office never named: its label, 人工报案
        i = stripped.find(name)
        if i >= 0:
            found.append(f"source {name}: …{stripped[max(0, i - 30) : i + 40]}…")
    words = keys()
    for m in re.finditer(r"(?<![\w-])[A-Za-z][A-Za-z0-9_]*(?![\w-])", stripped):
        if m.group(0) in words:
            found.append(f"key {m.group(0)}: …{stripped[max(0, m.start() - 30) : m.end() + 30]}…")
    return found


# -- the scenario ---------------------------------------------------------------------------
class Clocks:
    """One hand moves both: the world's scenario seconds and the pipeline's wall clock."""

    def __init__(self, start: datetime):
        self.t = 0.0
        self.start = start
        self.extra = timedelta(0)

    def world(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t) + self.extra


def _mail(i: int, raw: bytes) -> Mail:
    m = BytesParser(policy=policy.default).parsebytes(raw)
    return Mail(
        name=f"mail {i:02d} ({m['Subject']})",
        to=str(m["To"]),
        subject=str(m["Subject"]),
        text=m.get_body(("plain",)).get_content(),
        html=m.get_body(("html",)).get_content(),
        date=str(m["Date"]),
        message=m,
    )


def run_scenario(tmp: Path) -> Documents:
    from click.testing import CliRunner
    from sqlalchemy import select

    from alerting.digest import build_digest, queue_digest
    from alerting.incidents import actions, review
    from demo.mailbox import Mailbox
    from demo.world import CampusWorld
    from sentinel import config as config_mod
    from sentinel.cli import cli
    from sentinel.pipeline import Pipeline
    from storage.db import Database
    from storage.models import (
        ChecklistItem,
        Escalation,
        Incident,
        IncidentEvent,
        OutboxMessage,
        Post,
        User,
    )
    from tests.servers.http import LoopbackHTTPServer

    docs = Documents()
    clocks = Clocks(EPOCH.astimezone(UTC))
    with (
        Mailbox(tmp / "mail") as mailbox,
        CampusWorld(clock=clocks.world, epoch=EPOCH) as world,
        LoopbackHTTPServer() as extra,
    ):
        extra.add("/flaky.xml", _rss([]), headers={"Content-Type": "application/rss+xml"})
        extra.add("/app/1", JS_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})
        cfg = world.sentinel_config(tmp / "var", mailbox.port, delay=0)
        cfg["var_dir"] = str(tmp / "var")
        cfg["recipients"] = {
            "office": ["yuqing@jxpc.example.edu.cn"],
            "leaders": {"label": "院领导", "to": ["leader@jxpc.example.edu.cn"]},
            "superior": {"label": "省公安厅宣传处", "to": ["duty@gat.jiangxi.example.gov.cn"]},
        }
        # The demo's timers: level by level and dual reporting within minutes.
        cfg["escalation"] = [
            {
                "severity": ["I", "II"],
                "levels": [
                    {"notify": ["office"], "ack_within": "1m"},
                    {"notify": ["leaders", "superior"], "ack_within": "2m"},
                ],
            },
            {"severity": ["III", "IV"], "levels": [{"notify": ["office"], "ack_within": "10m"}]},
        ]
        cfg["notify"] = {"group_window": "30s"}
        # The console's address: reports and approval requests carry one-tap links.
        cfg["console_url"] = "http://127.0.0.1:8080"
        cfg["sources"] += [
            {
                "name": "flaky-feed",
                "label": "江西教育网",
                "type": "feed",
                "url": extra.url("/flaky.xml"),
                "interval": "5s",
                "delay": 0,
            },
            {
                "name": "js-site",
                "label": "校友论坛",
                "type": "site",
                "urls": [extra.url("/app/1")],
                "interval": "5s",
                "delay": 0,
            },
        ]
        path = tmp / "sentinel.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        config = config_mod.load(path)
        db = Database(config.database_url)
        pipeline = Pipeline(config, db, now=clocks.now)
        with db.session() as s:  # the office, a leader and a unit's information manager
            s.add(User(name="赵敏", role="office", email="zhaomin@example.edu.cn"))
            s.add(User(name="李书记", role="leader", email="leader@jxpc.example.edu.cn"))
            s.add(
                User(
                    name="后勤处信息员",
                    role="unit",
                    unit="后勤处",
                    email="houqin@jxpc.example.edu.cn",
                )
            )
        try:
            for t in range(10, 250, 10):
                clocks.t = t
                if t == 20:  # the feed fails four runs in a row, then works again
                    extra.add("/flaky.xml", b"busy", status=503)
                if t == 60:
                    extra.add(
                        "/flaky.xml", _rss([]), headers={"Content-Type": "application/rss+xml"}
                    )
                pipeline.poll()
                pipeline.tick()
                pipeline.drain()
                if t == 150:
                    _work_to_tracking(db, config, pipeline, clocks, actions, Incident, User, Post)
            # The rumour is handled and closed; 40 days later its story comes back.
            rumour_id = _close_rumour(
                db, config, pipeline, clocks, actions, Incident, Post, select, ChecklistItem
            )
            clocks.extra = timedelta(days=40)
            back = clocks.now()
            extra.add(
                "/flaky.xml",
                _rss(
                    [
                        (
                            "江西警院又有人号召明晚去行政楼集合讨说法",
                            "网传江西警察学院食堂承包商是校领导亲戚，有人号召明晚八点到田径场集合，一起去行政楼讨说法，人越多越好，转发到各个群！",
                            "https://edu.example.cn/news/40d.html",
                            back - timedelta(minutes=5),
                        )
                    ]
                ),
                headers={"Content-Type": "application/rss+xml"},
            )
            pipeline.poll()
            pipeline.drain()
            # The deadlines pass; nobody acknowledged: overdue alerts and reminders.
            clocks.extra += timedelta(hours=14)
            pipeline.tick()
            pipeline.drain()
            _people_documents(db, config, pipeline, clocks, tmp, select, Incident)
            now = clocks.now()
            docs.facts["rumour_id"] = rumour_id
            docs.facts["now"] = now
            with db.session() as s:
                docs.facts["incidents"] = {
                    i.id: {
                        "severity": i.severity,
                        "category": i.category,
                        "opened_at": i.opened_at,
                        "related_to": i.related_to_id,
                        "status": i.status,
                        "title": i.title,
                    }
                    for i in s.scalars(select(Incident))
                }
                docs.facts["events"] = [
                    (e.incident_id, e.kind, e.at, dict(e.data or {}))
                    for e in s.scalars(select(IncidentEvent).order_by(IncidentEvent.id))
                ]
                docs.facts["escalations"] = [
                    (e.incident_id, e.level, list(e.groups), e.sent_at)
                    for e in s.scalars(select(Escalation).order_by(Escalation.id))
                ]
                docs.facts["outbox"] = [
                    (m.incident_id, m.kind, m.created_at, list(m.recipients), m.subject)
                    for m in s.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.channel == "email")
                        .order_by(OutboxMessage.id)
                    )
                ]
                for model, cols in (
                    (
                        Incident,
                        ("opened_at", "updated_at", "closed_at", "last_post_at", "acknowledged_at"),
                    ),
                    (Post, ("published_at", "fetched_at")),
                    (IncidentEvent, ("at",)),
                    (Escalation, ("sent_at", "ack_due_at")),
                    (ChecklistItem, ("due_at", "done_at")),
                    (OutboxMessage, ("created_at",)),
                ):
                    for row in s.scalars(select(model)):
                        docs.stamps |= {
                            getattr(row, c) for c in cols if getattr(row, c) is not None
                        }
                for inc in s.scalars(select(Incident)):
                    docs.reviews[inc.id] = (
                        review.render(s, inc, config, now, "html"),
                        review.render(s, inc, config, now, "md"),
                    )
                docs.weekly_html = review.render_weekly(s, config, now, "html", days=60)
                docs.weekly_md = review.render_weekly(s, config, now, "md", days=60)
            d = build_digest(db, config, now - timedelta(days=60), now, name="daily")
            docs.digest_html, docs.digest_text, docs.digest_subject = d.html, d.text, d.subject
            docs.facts["digest_context"] = d.context
            queue_digest(db, config, d, to=["office"], now=clocks.now)  # and as a mail
            pipeline.drain()
            with db.session() as s:
                docs.facts["outbox"] += [
                    (m.incident_id, m.kind, m.created_at, list(m.recipients), m.subject)
                    for m in s.scalars(
                        select(OutboxMessage).where(
                            OutboxMessage.channel == "email", OutboxMessage.kind == "digest"
                        )
                    )
                ]
            docs.mails = [_mail(i, p.read_bytes()) for i, p in enumerate(_mail_files(tmp / "mail"))]
            runner = CliRunner()
            env = {"COLUMNS": "80", "SENTINEL_USER": ""}

            def cli_out(*args) -> str:
                r = runner.invoke(cli, ["--config", str(path), *args], env=env)
                assert r.exit_code == 0, r.output
                return r.output

            docs.incidents = cli_out("incidents")
            docs.status = cli_out("status")
            for iid in docs.reviews:
                docs.shows[iid] = cli_out("incident", "show", str(iid))
            for args in (
                ("stats", "--since", "60d"),
                ("posts", "--matched"),
                ("outbox",),
                ("digest", "--since", "60d"),
                ("user", "list"),
            ):
                docs.cli[" ".join(args)] = cli_out(*args)
        finally:
            db.dispose()
    docs.facts["config"] = config
    return docs


def _mail_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


def _work_to_tracking(db, config, pipeline, clocks, actions, Incident, User, Post):
    """The office works the canteen story (incident 1) to tracking, as the plan says."""
    with db.session() as s:
        inc = s.get(Incident, 1)
        now = clocks.now()
        actions.assess(
            s,
            inc,
            config=config,
            outbox=pipeline.outbox,
            now=now,
            by="赵敏",
            cause="食堂涨价及卫生问题被转发炒作",
        )
        actions.escalate(s, inc, config=config, outbox=pipeline.outbox, now=now, by="赵敏")
        actions.classify(s, inc, "hype", config=config, now=now, by="赵敏")
        for key in ("state_facts", "trace_and_deal"):
            actions.check(s, inc, key, config=config, now=now, by="赵敏", note="已完成")
        actions.resolve(
            s,
            inc,
            config=config,
            now=now,
            by="赵敏",
            tracker="赵敏",
            force=True,
            note="已发布情况说明，转入动态跟踪",
        )


def _close_rumour(
    db, config, pipeline, clocks, actions, Incident, Post, select, ChecklistItem
) -> int:
    """The office works the rumour to the end and closes it."""
    with db.session() as s:
        rumour = next(i for i in s.scalars(select(Incident)) if i.category == "illegal")
        now = clocks.now()
        actions.assess(
            s,
            rumour,
            config=config,
            outbox=pipeline.outbox,
            now=now,
            by="赵敏",
            cause="捏造食堂事件煽动聚集",
        )
        actions.escalate(s, rumour, config=config, outbox=pipeline.outbox, now=now, by="赵敏")
        actions.classify(s, rumour, "illegal", config=config, now=now, by="赵敏")
        for item in s.scalars(
            select(ChecklistItem).where(
                ChecklistItem.incident_id == rumour.id, ChecklistItem.done_at.is_(None)
            )
        ):
            actions.check(s, rumour, item.key, config=config, now=now, by="赵敏", note="已办结")
        actions.resolve(s, rumour, config=config, now=now, by="赵敏", tracker="赵敏")
        actions.close(s, rumour, now=now, by="赵敏", note="已澄清事实并移交公安机关，舆情平息")
        return rumour.id


def _people_documents(db, config, pipeline, clocks, tmp, select, Incident) -> None:
    """What people's work sends: a reply to the suggestion drafted by the office, approved
    by a leader and published (the approval request with the leader's one-tap link, the
    decision); a unit's report without a URL (its receipt, and the incident it opens);
    a broken edit of sentinel.yaml that the daemon keeps out (配置有误)."""
    from alerting.compose.daemon import config_broken
    from alerting.incidents import manual, replies
    from core.errors import SentinelError
    from sentinel import config as config_mod

    outbox = pipeline.outbox
    with db.session() as s:
        suggestion = next(i for i in s.scalars(select(Incident)) if i.category == "constructive")
        sid = suggestion.id
        replies.draft(
            s,
            suggestion,
            "感谢您对学校食堂管理提出的建议。后勤处已研究采纳，下周起公示菜品价格并开放后厨参观。",
            by="赵敏",
            config=config,
            outbox=outbox,
            now=clocks.now(),
        )
    pipeline.drain()
    clocks.extra += timedelta(minutes=20)
    with db.session() as s:
        inc = s.get(Incident, sid)
        replies.approve(s, inc, by="李书记", config=config, outbox=outbox, now=clocks.now())
        replies.publish(
            s,
            inc,
            by="赵敏",
            config=config,
            now=clocks.now(),
            url="https://www.jxpc.example.edu.cn/info/1012/3456.htm",
        )
    with db.session() as s:
        manual.report(
            s,
            title="学生在班级群反映二食堂后厨卫生问题",
            note="有学生在班级 QQ 群反映江西警察学院二食堂后厨卫生差，已截图留存，正在核实。",
            by="后勤处信息员",
            config=config,
            outbox=outbox,
            now=clocks.now(),
        )
    broken = tmp / "edited" / "sentinel.yaml"  # the same file, saved with a mistake
    broken.parent.mkdir(exist_ok=True)
    broken.write_text(config.file.read_text(encoding="utf-8") + "\nsources: [\n", encoding="utf-8")
    try:
        config_mod.load(broken)
    except SentinelError as e:
        error = str(e)
    with db.session() as s:
        outbox.queue(
            s,
            config_broken(
                str(config.file), error, "edited", clocks.now() - timedelta(hours=1), tz=config.tz
            ),
        )
    pipeline.drain()
