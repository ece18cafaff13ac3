"""Personal data masking keeps text length (highlight offsets stay valid)."""

from alerting.compose.masking import mask
from alerting.compose.views import excerpt


def test_phone_id_card_and_email_are_masked_keeping_length():
    t = "联系13812345678或+86 139-1234-5678，身份证360102199001011234，邮箱zhangsan@qq.com，学号2021123456"
    m = mask(t)
    assert len(m) == len(t)
    assert (
        "138****5678" in m
        and "139-****-5678" in m
        and "360102********1234" in m
        and "z*******@qq.com" in m
    )
    assert "2021123456" in m


def test_excerpt_escapes_and_highlights():
    text = "<b>江西警察学院</b> 食堂 <script>x</script>"
    e = excerpt(text, [(text.index("食堂"), text.index("食堂") + 2)])
    assert "<mark>食堂</mark>" in e.html and "&lt;script&gt;" in e.html and "<b>" not in e.html
    assert "【食堂】" in e.text
