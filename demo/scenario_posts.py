"""The posts of the demo scenario: who posts what, where and when (seconds after the
world starts), and what the office should make of it."""

from __future__ import annotations

from demo.scenario import ScenarioPost

_HOUR = 3600.0
_DAY = 86400.0

POSTS: list[ScenarioPost] = [
    # -- already online when the world starts -------------------------------------
    ScenarioPost(
        key="noise-roadtrip",
        site="forum",
        id=1001,
        appear_after=0,
        age=2 * _HOUR,
        title="求推荐南昌周边周末自驾游的路线",
        body="国庆后想和室友周末出去转转，南昌周边有什么一天能来回的地方？"
        "梅岭、滕王阁都去过了，求推荐人少一点的，最好能吃到正宗的瓦罐汤。\n\n"
        "有车，四个人，预算不多。先谢谢各位了！",
        author="赣江边的风",
        replies=23,
        views=611,
        kind="noise",
    ),
    ScenarioPost(
        key="news-graduation",
        site="news",
        id=3401,
        appear_after=0,
        age=1 * _DAY,
        title="江西警察学院举行毕业典礼暨学位授予仪式",
        body="本网讯 日前，江西警察学院在学院大礼堂隆重举行毕业生毕业典礼暨学位授予仪式。"
        "学院领导、各系部负责人、毕业生代表及家长代表共一千余人参加典礼。\n\n"
        "典礼在庄严的国歌声中开始。院长在致辞中回顾了同学们在校期间的成长历程，"
        "勉励毕业生牢记“对党忠诚、服务人民、执法公正、纪律严明”的总要求，"
        "在新的岗位上担当作为、建功立业。\n\n"
        "毕业生代表发言表示，将把在警院学到的知识和养成的作风带到基层一线。"
        "典礼最后，学院领导为毕业生代表拨穗并颁发学位证书。",
        author="赣鄱新闻网 记者 刘晓华",
        kind="neutral",
    ),
    ScenarioPost(
        key="news-metro",
        site="news",
        id=3402,
        appear_after=0,
        age=3 * _HOUR,
        title="南昌地铁4号线部分站点下周起调整首末班车时间",
        body="本网讯 记者从南昌轨道交通集团获悉，为配合沿线施工，地铁4号线部分站点自下周一起"
        "调整首末班车时间，首班车推迟10分钟，末班车提前15分钟。\n\n"
        "运营方提醒广大乘客合理安排出行时间，具体时刻可通过官方app查询。",
        author="赣鄱新闻网 记者 王磊",
        kind="noise",
    ),
    ScenarioPost(
        key="noise-kaoyan",
        site="tieba",
        id=8120001,
        appear_after=0,
        age=1 * _HOUR,
        title="有没有一起考研的？南昌这边找个研友",
        body="本人跨考法学，目前在复习专业课，想找个一起去省图自习的研友，互相监督。"
        "有意向的楼下留言或者私信。",
        author="上岸上岸上岸",
        replies=8,
        views=190,
        kind="noise",
    ),
    # -- (a) the inquiry ---------------------------------------------------------
    ScenarioPost(
        key="canteen-inquiry",
        site="forum",
        id=1002,
        appear_after=6,
        title="请问学校二食堂最近是不是涨价了？",
        body="我是江西警察学院大二的学生，最近发现二食堂的饭菜价格比上学期贵了不少，"
        "一份青椒肉丝从8块涨到了12块，分量还少了一半。昨天中午打的米饭还有点夹生。\n\n"
        "想请问一下后勤处：这次涨价有没有公示？依据是什么？"
        "我们学生生活费有限，希望学校能给个说法，也希望能反映一下饭菜质量的问题。",
        author="警院小白",
        replies=12,
        views=356,
        kind="inquiry",
        wave=1,
    ),
    # -- (e) neutral news ---------------------------------------------------------
    ScenarioPost(
        key="news-sports-meet",
        site="news",
        id=3403,
        appear_after=15,
        title="江西警察学院第十五届田径运动会隆重开幕",
        body="本网讯 近日，江西警察学院第十五届田径运动会在学院田径场隆重开幕。"
        "来自各系部的28支代表队、一千二百余名运动员参加了开幕式。\n\n"
        "开幕式上，学员方阵步伐整齐、口号响亮，展现了警院学子昂扬向上的精神风貌。"
        "本届运动会为期三天，共设男女田径项目32项，另有警务技能接力等特色项目。",
        author="赣鄱新闻网 通讯员 陈静",
        kind="neutral",
    ),
    # -- (f) noise ----------------------------------------------------------------
    ScenarioPost(
        key="noise-phone",
        site="tieba",
        id=8120002,
        appear_after=25,
        title="求助：南昌哪里修手机比较靠谱？",
        body="手机屏幕摔碎了，官方售后报价八百多，有没有靠谱又便宜一点的维修店推荐？"
        "最好在红谷滩或者青山湖这边。",
        author="今天也要加油鸭",
        replies=5,
        views=88,
        kind="noise",
    ),
    # -- (b) the hype wave --------------------------------------------------------
    ScenarioPost(
        key="canteen-hype",
        site="forum",
        id=1003,
        appear_after=35,
        title="【曝光】江西警院二食堂饭菜里吃出虫子！大家转发扩散！",
        body="今天中午在江西警院二食堂打的饭，吃到一半发现菜里有一只虫子，恶心死了，"
        "图就不发了怕大家吃不下饭。\n\n"
        "饭菜价格涨了这么多，卫生还这么差，学校到底管不管？"
        "之前有同学发帖问涨价的事也没人回复。大家帮忙转发扩散，让更多人看到，"
        "曝光到学校不得不出来给个说法为止！",
        author="正义路人甲",
        replies=87,
        views=2345,
        kind="hype",
        wave=1,
    ),
    ScenarioPost(
        key="canteen-hype-tieba",
        site="tieba",
        id=8120003,
        appear_after=45,
        title="转：江西警院食堂饭菜吃出虫子，求扩散",
        body="转自校园论坛：今天中午在江西警院二食堂打的饭，吃到一半发现菜里有一只虫子，恶心死了。"
        "饭菜价格涨了这么多，卫生还这么差，学校到底管不管？\n\n"
        "大家帮忙转发扩散，让更多人看到！",
        author="吃瓜第一线",
        replies=56,
        views=1890,
        kind="hype",
        wave=1,
        repost_of="canteen-hype",
    ),
    ScenarioPost(
        key="canteen-hype-evasive",
        site="forum",
        id=1004,
        appear_after=55,
        title="江西警*察学院食堂又出事了？转发扩散",
        body="听说江 西 警*察 学 院二食堂饭菜里吃出虫子，价格还一个劲地涨，已经好几个人在说了。\n\n"
        "原帖怕被删，我再发一遍：饭菜价格涨了这么多，卫生还这么差，学校到底管不管？"
        "大家转发扩散，曝光出来才有人管！",
        author="不吐不快2026",
        replies=41,
        views=1207,
        kind="hype",
        wave=1,
        repost_of="canteen-hype",
    ),
    ScenarioPost(
        key="canteen-hype-news",
        site="news",
        id=3404,
        appear_after=65,
        title="网传江西警察学院食堂饭菜出现异物 学院：已成立调查组核实",
        body="本网讯 近日，有网友在网络论坛发帖称，在江西警察学院二食堂就餐时发现饭菜中有虫子，"
        "并质疑食堂饭菜涨价。相关帖子被多个网站转发，引发网友关注。\n\n"
        "记者从江西警察学院了解到，学院已成立由后勤、纪检等部门组成的调查组，"
        "对食堂食品安全和价格情况进行核实，调查结果将及时向师生公布。",
        author="赣鄱新闻网 记者 周涛",
        kind="hype",
        wave=1,
        repost_of="canteen-hype",
    ),
    ScenarioPost(
        key="canteen-hype-jx",
        site="tieba",
        id=8120004,
        appear_after=75,
        title="JX警院食堂这事大家怎么看？涨价还吃出虫，曝光一下",
        body="JX警院二食堂这次真的过分了，涨价的事还没给个说法，又有人吃出虫子。"
        "论坛和贴吧都传开了，大家继续转发，看学校什么时候回应。",
        author="路过的小警察",
        replies=33,
        views=967,
        kind="hype",
        wave=1,
        repost_of="canteen-hype",
    ),
    # -- (c) the fabricated rumour -------------------------------------------------
    ScenarioPost(
        key="rumour-gathering",
        site="forum",
        id=1005,
        appear_after=90,
        title="紧急扩散！明晚八点操场集合讨说法",
        body="内部消息：江西警察学院食堂承包商是某校领导的亲戚，已经有五六个同学吃坏肚子住院了，"
        "学校一直在捂盖子，还威胁发帖的同学要记处分！\n\n"
        "所有同学明晚八点到田径场集合，一起去行政楼找学校讨说法，人越多越好，"
        "不去的就不是警院人！看完马上转发到各个班级群、宿舍群！",
        author="知情人士",
        replies=150,
        views=4321,
        kind="illegal",
        wave=1,
    ),
    ScenarioPost(
        key="rumour-gathering-tieba",
        site="tieba",
        id=8120005,
        appear_after=100,
        title="明晚八点操场集合！江西警院食堂事件讨说法",
        body="论坛有人爆料：江西警院食堂承包商是校领导亲戚，好几个同学吃坏肚子住院，学校还在捂盖子。\n\n"
        "明晚八点田径场集合，一起去行政楼讨说法，人越多越好！转发到各个群！",
        author="警院真相帝",
        replies=98,
        views=3012,
        kind="illegal",
        wave=1,
        repost_of="rumour-gathering",
    ),
    # -- (d) the constructive suggestion ----------------------------------------
    ScenarioPost(
        key="canteen-suggestion",
        site="forum",
        id=1006,
        appear_after=115,
        title="关于改进学校食堂管理的几点建议",
        body="作为江西警察学院的一名学生，最近看到大家对食堂的讨论，我想理性地提几点建议：\n\n"
        "一是建议学校定期公示食堂菜品价格和成本构成，涨价前先征求学生意见；"
        "二是成立学生伙食监督委员会，每月对食堂卫生进行抽查并公布结果；"
        "三是在食堂设意见箱，并开通线上反馈渠道，做到有问必答。\n\n"
        "相信学校会重视大家的意见，希望能够采纳，谢谢。",
        author="理性发言的小陈",
        replies=45,
        views=980,
        kind="constructive",
        wave=1,
    ),
    # -- (e) neutral and (f) noise, while things calm down ---------------------------
    ScenarioPost(
        key="news-training",
        site="news",
        id=3405,
        appear_after=130,
        title="江西警察学院开展警务实战技能集中训练",
        body="本网讯 为提升学员实战能力，江西警察学院近日组织开展警务实战技能集中训练，"
        "内容涵盖警务战术、射击、擒敌技术和应急处置等科目。\n\n"
        "训练采取理论授课与情景模拟相结合的方式，邀请一线民警担任教官，"
        "帮助学员把课堂所学转化为实战本领。",
        author="赣鄱新闻网 通讯员 陈静",
        kind="neutral",
    ),
    ScenarioPost(
        key="news-forest-fire",
        site="news",
        id=3406,
        appear_after=138,
        title="全省秋冬季森林防灭火工作会议召开",
        body="本网讯 全省秋冬季森林防灭火工作会议日前召开。会议要求各地压实责任，"
        "加强野外火源管控，确保森林资源和人民群众生命财产安全。",
        author="赣鄱新闻网 记者 王磊",
        kind="noise",
    ),
    ScenarioPost(
        key="noise-bicycle",
        site="forum",
        id=1007,
        appear_after=145,
        title="出一辆二手自行车，九成新，价格好商量",
        body="毕业前清东西，捷安特山地车，骑了不到一年，九成新，原价一千二，现价四百。"
        "可以在校内当面验车，有意者回帖留联系方式。",
        author="清仓大甩卖",
        replies=3,
        views=120,
        kind="noise",
    ),
    ScenarioPost(
        key="noise-similar-school",
        site="news",
        id=3407,
        appear_after=150,
        title="江西司法警官职业学院举办秋季田径运动会",
        body="本网讯 近日，江西司法警官职业学院秋季田径运动会开幕，"
        "各院系运动员在赛场上奋勇拼搏。学院食堂还为运动员准备了营养餐。",
        author="赣鄱新闻网 通讯员 李明",
        kind="noise",
    ),
    ScenarioPost(
        key="noise-other-canteen",
        site="tieba",
        id=8120006,
        appear_after=155,
        title="师大食堂新开的麻辣烫窗口有人吃过吗",
        body="江西师范大学瑶湖校区一食堂新开了一个麻辣烫窗口，听说味道不错，价格也便宜，"
        "有吃过的同学说说怎么样？",
        author="干饭人干饭魂",
        replies=17,
        views=402,
        kind="noise",
    ),
    # -- (g) the second wave of the canteen story ----------------------------------
    ScenarioPost(
        key="canteen-second-wave",
        site="forum",
        id=1008,
        appear_after=165,
        title="食堂的事还没完？江西警院二食堂今天又涨价了",
        body="上周说成立了调查组，结果到现在也没个说法，今天江西警察学院二食堂的套餐又涨了两块。\n\n"
        "调查结果呢？说好的公布呢？大家继续转发扩散，不能就这么算了！",
        author="正义路人甲",
        replies=64,
        views=1788,
        kind="hype",
        wave=2,
        relative_time=True,
    ),
    ScenarioPost(
        key="canteen-second-wave-tieba",
        site="tieba",
        id=8120007,
        appear_after=172,
        title="江西警院食堂又涨价，调查结果到底什么时候公布？",
        body="转论坛：调查组成立这么久了没个说法，今天江西警院二食堂的套餐又涨了两块。"
        "调查结果呢？大家继续转发扩散，不能就这么算了！",
        author="吃瓜第一线",
        replies=39,
        views=1102,
        kind="hype",
        wave=2,
        repost_of="canteen-second-wave",
        relative_time=True,
    ),
    ScenarioPost(
        key="canteen-second-wave-news",
        site="news",
        id=3408,
        appear_after=180,
        title="江西警察学院食堂涨价引发学生再次质疑 调查进展受关注",
        body="本网讯 继此前网传食堂饭菜出现异物后，近日又有网友发帖称江西警察学院二食堂套餐价格上涨，"
        "并质疑学院调查迟迟没有结果，相关话题在多个网络平台再次引发讨论。\n\n"
        "记者将持续关注事件进展。",
        author="赣鄱新闻网 记者 周涛",
        kind="inquiry",
        wave=2,
        repost_of="canteen-second-wave",
    ),
]
