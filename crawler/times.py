"""Times as Chinese sites and feeds write them, to aware datetimes.

"刚刚", "3分钟前", "2小时前", "昨天 12:30", "前天", "2026-11-23 08:15", "2026年11月23日",
"11月23日 08:15", "11-23 08:15", ISO 8601, RFC 822 and Unix timestamps. A time without a zone
is in the configured zone; a date without a year is in the current year, or the previous
one when that would put it in the future.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "半": 0.5,
}
_UNIT = {
    "秒": 1,
    "sec": 1,
    "second": 1,
    "s": 1,
    "分钟": 60,
    "分": 60,
    "min": 60,
    "minute": 60,
    "小时": 3600,
    "钟头": 3600,
    "hour": 3600,
    "h": 3600,
    "天": 86400,
    "日": 86400,
    "day": 86400,
    "周": 604800,
    "星期": 604800,
    "礼拜": 604800,
    "week": 604800,
    "个月": 2592000,
    "月": 2592000,
    "month": 2592000,
    "年": 31536000,
    "year": 31536000,
}
_AGO = re.compile(
    r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十半]+)\s*"
    r"(秒|分钟|分|小时|钟头|天|日|周|星期|礼拜|个月|月|年|seconds?|secs?|minutes?|mins?|hours?|days?|weeks?|months?|years?|[smhd])"
    r"\s*(?:前|以前|之前|ago)",
    re.IGNORECASE,
)
_DAY_WORDS = {
    "今天": 0,
    "今日": 0,
    "昨天": -1,
    "昨日": -1,
    "前天": -2,
    "大前天": -3,
    "today": 0,
    "yesterday": -1,
}
_HMS = re.compile(r"(\d{1,2})\s*[:：点时]\s*(\d{1,2})?(?:\s*[:：分]\s*(\d{1,2}))?")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_MD = re.compile(r"(?<!\d)(\d{1,2})\s*[-/月]\s*(\d{1,2})\s*日?(?!\d)")
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE
)


def _zone(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return ZoneInfo("Asia/Shanghai")
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _cn_number(s: str) -> float:
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        return float(s)
    if s == "半":
        return 0.5
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (
            _CN_DIGITS.get(ones, 0) if ones else 0
        )
    total = 0.0
    for ch in s:
        total = total * 10 + _CN_DIGITS.get(ch, 0)
    return total


def _unit_seconds(unit: str) -> int:
    u = unit.lower()
    if u in _UNIT:
        return _UNIT[u]
    return _UNIT.get(u.rstrip("s"), 60)


def _time_of_day(text: str) -> tuple[int, int, int] | None:
    m = _HMS.search(text)
    if not m:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    if ("下午" in text or "晚上" in text or "pm" in text.lower()) and h < 12:
        h += 12
    if h > 23 or mi > 59 or s > 59:
        return None
    return h, mi, s


def parse_time(
    text: str | None, now: datetime | None = None, tz: tzinfo | str | None = None
) -> datetime | None:
    """An aware datetime for ``text``, or None when it is not a time we recognise.
    ``now`` anchors relative times (default: the current time)."""
    if text is None:
        return None
    zone = _zone(tz)
    now = now or datetime.now(zone)
    if now.tzinfo is None:
        now = now.replace(tzinfo=zone)
    local_now = now.astimezone(zone)
    s = re.sub(r"\s+", " ", str(text)).strip()
    s = s.replace("发表于", "").replace("发布时间", "").replace("发布于", "").strip(" :：")
    if not s:
        return None
    # Unix timestamps (seconds or milliseconds).
    if re.fullmatch(r"\d{10}(\d{3})?", s):
        v = int(s)
        return datetime.fromtimestamp(v / 1000 if v > 10**11 else v, UTC).astimezone(zone)
    if s in ("刚刚", "刚才", "just now", "now"):
        return local_now
    m = _AGO.search(s)
    if m:
        return local_now - timedelta(seconds=_cn_number(m.group(1)) * _unit_seconds(m.group(2)))
    if _ISO.match(s):
        try:
            return datetime.fromisoformat(
                s.replace("z", "Z").replace("Z", "+00:00").replace(" ", "T", 1)
            )
        except ValueError:
            pass
    # RFC 822 (feeds, HTTP headers).
    if re.search(r"[A-Za-z]{3},?\s+\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}", s) or re.match(
        r"\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", s
    ):
        try:
            d = parsedate_to_datetime(s)
            return d if d.tzinfo else d.replace(tzinfo=zone)
        except (TypeError, ValueError, IndexError):
            pass
    for word, offset in sorted(_DAY_WORDS.items(), key=lambda kv: -len(kv[0])):
        if word in s.lower():
            day = local_now.date() + timedelta(days=offset)
            h, mi, sec = _time_of_day(s.lower().replace(word, "")) or (0, 0, 0)
            return datetime(day.year, day.month, day.day, h, mi, sec, tzinfo=zone)
    m = _YMD.search(s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        rest = s[m.end() :]
        h, mi, sec = _time_of_day(rest) or (0, 0, 0)
        try:
            result = datetime(y, mo, d, h, mi, sec, tzinfo=zone)
        except ValueError:
            return None
        offset = re.search(r"(Z|[+-]\d{2}:?\d{2})\s*$", rest)
        if offset and re.search(r"\d{1,2}:\d{2}", rest):
            try:
                return datetime.fromisoformat(
                    f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{sec:02d}"
                    + offset.group(1).replace("Z", "+00:00")
                )
            except ValueError:
                pass
        return result
    m = _MD.search(s)
    if m:
        mo, d = int(m.group(1)), int(m.group(2))
        h, mi, sec = _time_of_day(s[m.end() :]) or (0, 0, 0)
        try:
            result = datetime(local_now.year, mo, d, h, mi, sec, tzinfo=zone)
        except ValueError:
            return None
        if result > local_now + timedelta(days=1):
            result = result.replace(year=local_now.year - 1)
        return result
    hms = _time_of_day(s)
    if hms and re.fullmatch(r"\d{1,2}[:：]\d{2}(?::\d{2})?", s):
        return local_now.replace(hour=hms[0], minute=hms[1], second=hms[2], microsecond=0)
    try:
        from dateutil import parser as du

        d = du.parse(s, fuzzy=False)
        return d if d.tzinfo else d.replace(tzinfo=zone)
    except (ValueError, OverflowError, TypeError):
        return None
