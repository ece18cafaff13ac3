"""Built-in cue words for what a watchlist does not list: the kinds of language that
describe a harm, a complaint or a demand, that make a suggestion, or that mark a post as
an event report (a ceremony, an award, an agreement, a campaign).

They are deliberately *general* (the way people write about any harm or grievance, not
the words of one story), are matched on normalised text (so traditional characters,
full-width forms and separators between characters are handled as for names), and are
used only on posts that already name the college and are not alerts by their topics:
``alerting.negative`` decides a negative mention (负面提及) with them, and
``alerting.category`` uses them to tell the handling categories apart. The office's own
vocabulary stays in the watchlist; these are the fallback for its gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import ahocorasick

from alerting.normalize import Normalized, normalize_term

HARM = "harm"
COMPLAINT = "complaint"
DEMAND = "demand"
SUGGESTION = "suggestion"
EVENT = "event"

# A harm to a person or their property, danger, coercion, a person missing.
_HARM = [
    "受伤",
    "伤到",
    "砸伤",
    "烫伤",
    "摔伤",
    "打伤",
    "划伤",
    "骨折",
    "流血",
    "出血",
    "缝针",
    "晕倒",
    "晕了",
    "晕过去",
    "昏迷",
    "休克",
    "抽搐",
    "送医",
    "送医院",
    "进医院",
    "住院",
    "急救",
    "抢救",
    "救护车",
    "重症",
    "病危",
    "去世",
    "死了",
    "没了呼吸",
    "遗体",
    "尸体",
    "失联",
    "联系不上",
    "联系不到",
    "找不到人",
    "下落不明",
    "不见了",
    "没回宿舍",
    "彻夜未归",
    "陌生人",
    "陌生男子",
    "陌生男人",
    "可疑人员",
    "闯入",
    "闯进",
    "翻墙进",
    "尾随",
    "跟踪",
    "偷拍",
    "偷窥",
    "骚扰电话",
    "被偷",
    "被盗",
    "失窃",
    "小偷",
    "被骗",
    "骗走",
    "骗了",
    "诈骗了",
    "敲诈",
    "威胁",
    "恐吓",
    "逼迫",
    "强迫",
    "被迫",
    "逼着",
    "胁迫",
    "欺负",
    "殴打",
    "挨打",
    "被推",
    "推倒",
    "扇耳光",
    "扇巴掌",
    "踢打",
    "围殴",
    "辱骂",
    "侮辱",
    "触电",
    "漏电",
    "被电",
    "电到",
    "中毒",
    "上吐下泻",
    "呕吐",
    "发烧",
    "过敏",
    "感染",
    "传染",
    "疫情",
    "着火",
    "冒烟",
    "爆炸",
    "塌了",
    "倒塌",
    "掉下来",
    "坍塌",
    "砸到",
    "安全隐患",
    "隐患",
    "危险",
    "吓人",
    "害怕",
    "不敢",
    "私了",
    "报警",
    "报了警",
    "出大事",
    "出事",
    "出人命",
    "差点没命",
    "不发工资",
    "不给钱",
    "一分钱不给",
    "一分钱都不给",
    "扣钱",
    "扣分",
    "扣学分",
    "罚款",
    "被罚",
    "白干",
]

# A grievance about how something is run, a cover-up, being ignored.
_COMPLAINT = [
    "太差",
    "很差",
    "真差",
    "差劲",
    "恶心",
    "无语",
    "离谱",
    "过分",
    "太坑",
    "坑人",
    "黑心",
    "垃圾",
    "烂透",
    "受不了",
    "忍不了",
    "忍无可忍",
    "失望",
    "寒心",
    "心寒",
    "气愤",
    "愤怒",
    "生气",
    "憋屈",
    "委屈",
    "冤枉",
    "崩溃",
    "绝望",
    "无奈",
    "没人管",
    "没人理",
    "不管不问",
    "不闻不问",
    "不作为",
    "不回应",
    "不回复",
    "不处理",
    "不解决",
    "不修",
    "没修",
    "不给修",
    "敷衍",
    "推脱",
    "推诿",
    "踢皮球",
    "互相推",
    "打官腔",
    "不了了之",
    "石沉大海",
    "投诉无门",
    "反映无门",
    "没用",
    "没有用",
    "隐瞒",
    "瞒着",
    "瞒报",
    "压着",
    "压下来",
    "封锁消息",
    "删帖",
    "捂着",
    "包庇",
    "护短",
    "袒护",
    "官官相护",
    "欺上瞒下",
    "态度恶劣",
    "态度很差",
    "凶",
    "骂人",
    "吼",
    "甩脸色",
    "刁难",
    "为难",
    "区别对待",
    "不公平",
    "不公正",
    "不合理",
    "不透明",
    "乱扣",
    "乱罚",
    "乱收",
    "强行",
    "硬性",
    "一刀切",
    "形式主义",
    "折腾",
]

# Asking for something to be done, someone to answer, money back.
_DEMAND = [
    "要求",
    "必须",
    "务必",
    "请求",
    "恳请",
    "强烈要求",
    "讨说法",
    "讨个说法",
    "给个说法",
    "给说法",
    "要说法",
    "给个交代",
    "交代",
    "还我",
    "还我们",
    "赔偿",
    "赔钱",
    "退钱",
    "退款",
    "道歉",
    "负责",
    "担责",
    "追究",
    "查清",
    "查明",
    "调查清楚",
    "公开真相",
    "出来说话",
    "站出来",
    "出面",
    "解决一下",
    "处理一下",
    "管一管",
    "管管",
    "回应一下",
    "给答复",
    "给个答复",
]

# A proposal for the better, with or without a grievance before it.
_SUGGESTION = [
    "建议",
    "提议",
    "倡议",
    "如果能",
    "要是能",
    "若能",
    "能否",
    "可否",
    "能不能考虑",
    "可以考虑",
    "不妨",
    "最好能",
    "希望能",
    "希望可以",
    "期待学校",
    "期待学院",
    "盼望",
    "就好了",
    "就太好了",
    "会更好",
    "更方便",
    "方便多了",
    "更合理",
    "改进",
    "改善",
    "优化",
    "完善",
    "增设",
    "增加",
    "延长",
    "开放",
    "多开",
    "多设",
    "一点想法",
    "几点想法",
    "小建议",
    "意见征集",
    "金点子",
]

# An event report: ceremonies, honours, agreements, campaigns, drills, notices.
_EVENT = [
    "典礼",
    "仪式",
    "授衔",
    "升旗",
    "表彰",
    "颁奖",
    "获奖",
    "荣获",
    "获评",
    "喜报",
    "祝贺",
    "热烈",
    "庆祝",
    "纪念",
    "周年",
    "校庆",
    "签约",
    "签署",
    "签订",
    "协议",
    "合作",
    "共建",
    "揭牌",
    "挂牌",
    "调研",
    "视察",
    "考察",
    "座谈",
    "会议",
    "开幕",
    "闭幕",
    "宣传",
    "宣讲",
    "讲座",
    "教育",
    "培训",
    "演练",
    "演习",
    "模拟",
    "科普",
    "主题活动",
    "进社区",
    "进校园",
    "志愿者",
    "志愿服务",
    "反诈",
    "防诈",
    "防骗",
    "防溺水",
    "禁毒",
    "普法",
    "安全教育",
    "消防演练",
    "应急演练",
    "开学",
    "报到",
    "录取",
    "招生简章",
    "开放日",
    "比赛",
    "竞赛",
    "运动会",
    "联赛",
    "冠军",
    "第一名",
    "一等奖",
    "金奖",
]

_KINDS = {
    HARM: _HARM,
    COMPLAINT: _COMPLAINT,
    DEMAND: _DEMAND,
    SUGGESTION: _SUGGESTION,
    EVENT: _EVENT,
}


@dataclass(frozen=True)
class Cue:
    kind: str  # harm | complaint | demand | suggestion | event
    word: str
    i: int  # compact start
    j: int  # compact end
    start: int  # original start
    end: int  # original end
    surface: str  # as written


class CueFinder:
    """One automaton over every cue word (a few hundred short strings); built once."""

    def __init__(self) -> None:
        self._ac = ahocorasick.Automaton()
        table: dict[str, list[tuple[str, str]]] = {}
        for kind, words in _KINDS.items():
            for w in words:
                table.setdefault(normalize_term(w), []).append((kind, w))
        for key, pl in table.items():
            self._ac.add_word(key, (len(key), tuple(pl)))
        self._ac.make_automaton()

    def find(self, n: Normalized) -> list[Cue]:
        """Every cue in one field; where cues overlap, the longest of each kind."""
        out: list[Cue] = []
        if not n.text:
            return out
        for end, (length, pl) in self._ac.iter(n.text):
            i, j = end - length + 1, end + 1
            s, e = n.span(i, j)
            for kind, word in pl:
                out.append(Cue(kind, word, i, j, s, e, n.original[s:e]))
        out.sort(key=lambda c: (c.kind, c.i, -(c.j - c.i)))
        kept: list[Cue] = []
        for c in out:
            if kept and kept[-1].kind == c.kind and c.i < kept[-1].j:
                continue
            kept.append(c)
        return kept


_finder: CueFinder | None = None


def cue_finder() -> CueFinder:
    """The shared finder (read-only after it is built)."""
    global _finder
    if _finder is None:
        _finder = CueFinder()
    return _finder
