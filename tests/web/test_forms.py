"""The domain's sentences speak of CLI options; the console says them as its forms do."""

from sentinel.web.forms import for_console


def test_cli_words_become_the_forms_words():
    assert (
        for_console("动态跟踪需要指定跟踪人：--tracker 姓名（或先 sentinel incident assign）")
        == "动态跟踪需要指定跟踪人：“动态跟踪人”（或先 “指派”操作）"
    )
    assert "或勾选“仍有未完成事项时也转入跟踪”" in for_console(
        "完成后再转入跟踪，或加 --force 并在备注中说明原因"
    )
    assert for_console("事件 #3 尚未研判；请先 sentinel incident assess 3 --by 姓名") == (
        "事件 #3 尚未研判；请先 “快速研判”操作"
    )
    assert for_console("没有网址的报案须写明 --title 标题 和 --note 情况说明") == (
        "没有网址的报案须写明 “标题” 和 “备注”"
    )
    assert for_console("没有编号为 9 的事件") == "没有编号为 9 的事件"
