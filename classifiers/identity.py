"""What makes two texts one event (同一事件): the text a story's fingerprint reads, and the names
it mentions.

Reposts of a story differ from it by what sites add (a 转发 prefix, a source line) and by a few
characters: a fingerprint of the whole text finds them near. Complaints written on one template
differ the other way round: the Weibo topic (``#会昌 实名举报#``), the plea before and after
(``本人以真实姓名实名举报…求扩散！求转发！``) and the ``@`` of the commission's account are the same,
and only who, where and what differ, so a fingerprint of the whole text finds them near each
other too (the template is most of their characters). Two things are read here, both from the
normalised text (:func:`pipeline.text.normalize`):

- :func:`template_free`: the text without hashtags, ``@``-mentions, pleas to spread (求扩散,
  求转发, 请帮忙转发 …), sentences with the template's phrases (愿承担法律责任, 所反映问题属实,
  还老百姓一个公道 …) and sentences repeated within the text. This is what the fingerprint of
  :mod:`classifiers.stories` reads.
- :func:`names`: the people, places and units the text names, read at anchor words so that the
  same characters give the same names and an edit changes only the names it touches: a surname
  with 某 (张某某, 刘某平 → ``张某``, ``刘某``), a surname and the next character after a title
  (副局长朱文斌 → ``朱文``), and the two characters before a place or unit word (周田镇, 羊角村,
  财政所, 资源局). Two complaints on one template each name someone or somewhere the other does
  not; a repost names what its original names, and perhaps more.

:func:`same_names` is the rule a near match must pass to join a story.

The text is not cleaned first (:func:`classifiers.clean.clean`, which the scorer applies): on the
corpus's texts with the repost variants of tests/classifiers/test_stability.py, cleaning would
bring another 2.6 % of reposts (portal buttons, related links, source lines of short texts)
within the distance, but it costs about 1 ms an article, more than the rest of story clustering.
"""

from __future__ import annotations

import re

__all__ = ["template_free", "names", "same_names", "SURNAME", "COMPOUND_SURNAME", "TITLES", "PLACE_WORDS",
           "ANCHOR", "NOT_IN_NAME", "NOT_A_NAME"]

# -- the template ---------------------------------------------------------------------------------

# A Weibo topic: #会昌 实名举报#, at most a line long.
_HASHTAG = re.compile(r"#[^#\n]{1,40}#")
# @会昌县纪委监委, @赣州清风: up to the next space or punctuation.
_MENTION = re.compile(r"[@＠][\w\-·]{1,30}")
# 求扩散！求转发！请大家帮忙转发、扩散周知: pleas to spread, alone or in a row. Every alternative
# starts with its own first character (the choice of opening word written out in each): the regex
# engine then skips in C the positions no alternative can start at, several times faster than
# trying each alternative everywhere; the matches are those of the pattern with the openings
# grouped, as alternatives are tried in the same order.
_PLEA_AFTER = (r"(?:各位|大家|网友|好心人)?(?:帮忙|帮我|帮帮忙|帮)?"
               r"(?:扩散|转发|转|顶|关注|曝光|支持|评论|点赞|上热搜|热搜)+")
_PLEA = re.compile(
    "(?:" + "|".join(opening + _PLEA_AFTER for opening in ("跪求", "恳求", "恳请", "拜托", "麻烦", "希望", "请", "求"))
    + r"|扩散周知|转发扩散|帮忙转发|大家帮帮忙)[，,、！!。~～\s]*")
# Phrases of the 实名举报 template, whoever and whatever it is about: a sentence with one is left
# out (the names are read from the whole text, see names()). Written out by first character as
# _PLEA is, for the same reason.
_TRUE = r"反映(?:的)?(?:问题|情况|内容)(?:均|全部)?属实"
_INVESTIGATE = (r"(?:上级|有关|相关|各级)?(?:部门|领导|纪委|纪检|监委|政府)[^。！？!?\n]{0,12}"
                r"(?:彻查|严查|查处|核查|调查|重视|处理|关注)")
_BOILERPLATE = re.compile(
    r"以真实姓名|愿(?:意)?承担(?:一切|相应|全部)?(?:的)?法律责任|所" + _TRUE + "|" + _TRUE + "|"
    r"还(?:老百姓|群众|我们|我|百姓|人民)(?:一个)?(?:公道|清白|说法)|"
    + "|".join(asking + _INVESTIGATE for asking in ("恳请", "请求", "希望", "强烈要求")))
# What every such sentence contains: texts without any of these skip the search.
_BOILERPLATE_WORDS = ("真实姓名", "法律责任", "属实", "公道", "清白", "说法", "查", "重视", "处理", "关注")
# A sentence with the punctuation that ends it.
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;\n]*")
_EDGES = " \t\u3000\n。！？!?；;，,、：:"


def template_free(text: str) -> str:
    """The normalised ``text`` without the template of a post (see the module docstring): what a
    story's fingerprint reads."""
    # Most articles have no hashtag or mention: a scan for the sign costs less than the pattern's.
    if "#" in text:
        text = _HASHTAG.sub(" ", text)
    if "@" in text or "＠" in text:
        text = _MENTION.sub(" ", text)
    text = _PLEA.sub(" ", text)
    template = ([m.start() for m in _BOILERPLATE.finditer(text)]
                if any(word in text for word in _BOILERPLATE_WORDS) else [])
    kept: list[str] = []
    seen: set[str] = set()
    if not template:
        for sentence in _SENTENCE.findall(text):
            core = sentence.strip(_EDGES)
            if core and core not in seen:
                seen.add(core)
                kept.append(sentence)
        return "".join(kept)
    at = 0  # the first template phrase not before the sentence (both run in text order)
    for m in _SENTENCE.finditer(text):
        start, end = m.span()
        while at < len(template) and template[at] < start:
            at += 1
        core = m.group(0).strip(_EDGES)
        if not core or core in seen or (at < len(template) and template[at] < end):
            continue
        seen.add(core)
        kept.append(m.group(0))
    return "".join(kept)


# -- names ----------------------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
             "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万"
             "钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝"
             "包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
             "尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬"
             "师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚"
             "鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋"
             "相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银"
             "亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由")
COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "令狐", "夏侯", "尉迟", "长孙", "宇文",
             "司徒", "公孙", "端木", "独孤", "南宫", "西门", "百里", "呼延", "轩辕", "钟离")
SURNAME = frozenset(SURNAMES)
COMPOUND_SURNAME = frozenset(COMPOUND)
TITLES = frozenset(("书记", "局长", "镇长", "乡长", "县长", "区长", "市长", "主任", "所长", "站长", "院长",
                     "校长", "支书", "队长", "科长", "股长", "经理", "会计", "组长", "主席", "委员", "干部",
                     "民警", "辅警", "医生", "老师", "村民", "党员", "厅长", "处长", "部长", "检察长", "庭长",
                     "审判员"))
# Place and unit words: 周田镇, 羊角村, 财政所, 资源局 (a title such as 局长 is found first).
PLACE_WORDS = ("镇", "乡", "村", "县", "区", "市", "街道", "社区", "局", "所", "院", "站", "厂", "公司", "小学",
                "中学")
# Where names are read: 某 (张某某), a title (副局长朱文斌) or a place word, titles before the
# place words they start with.
ANCHOR = re.compile("某|" + "|".join(sorted(TITLES, key=len, reverse=True)) + "|" + "|".join(PLACE_WORDS))
# Characters that are never part of the two before a place word: function words (我们村, 全县,
# 该镇) and place words themselves (县乡镇).
NOT_IN_NAME = set("我你他她它们这那该本全各每某此其的了在是和与及到从对把被将向给为有个一二两几多镇乡村县区市局所院站")
# Times and motions before a place word: 今天县纪委, 近日镇里, 来到村里.
NOT_A_NAME = {"今天", "当天", "昨天", "明天", "前天", "近日", "日前", "当日", "今日", "昨日", "今年", "去年",
               "明年", "当年", "目前", "如今", "现在", "最近", "已经", "正在", "来到", "前往", "回到", "走进",
               "深入", "返回", "离开", "进入", "赶到", "赶往", "全省", "上级", "下级", "基层", "城乡"}


def names(text: str) -> frozenset[str]:
    """The people, places and units the normalised ``text`` names (see the module docstring),
    template included: a complaint may name its town only in the topic."""
    found = set()
    for m in ANCHOR.finditer(text):
        start, end = m.span()
        word = m.group()
        if word == "某":  # 张某某, 欧阳某: the surname before it
            if text[start - 2:start] in COMPOUND_SURNAME:
                found.add(text[start - 2:end])
            elif start and text[start - 1] in SURNAME:
                found.add(text[start - 1:end])
        elif word in TITLES:  # 副局长朱文斌: the surname after it and one more character
            after = 3 if text[end:end + 2] in COMPOUND_SURNAME else 2 if text[end:end + 1] in SURNAME else 0
            name = text[end:end + after]
            if after and _two_han(name[-2:]) and not name.endswith("某"):
                found.add(name)
        elif start >= 2 and text[end:end + 1] != "长":  # 周田镇: the two characters before, unless a title (村长)
            prefix = text[start - 2:start]
            if (prefix[0] not in NOT_IN_NAME and prefix[1] not in NOT_IN_NAME and _two_han(prefix)
                    and prefix not in NOT_A_NAME):
                found.add(prefix + word)
    return frozenset(found)


def _two_han(pair: str) -> bool:
    """Whether ``pair`` is two characters of the basic CJK block (names are read only there); a
    comparison, not a regex, because names() asks it for most anchors of every article."""
    return len(pair) == 2 and "\u4e00" <= pair[0] <= "\u9fff" and "\u4e00" <= pair[1] <= "\u9fff"


def same_names(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether texts naming ``a`` and ``b`` may be one event: unless each names someone or
    somewhere the other does not, and those differences are not a few among many names both
    share (an edit that touched one name of a long repost)."""
    only_a, only_b = len(a - b), len(b - a)
    return min(only_a, only_b) == 0 or 8 * min(only_a, only_b) <= len(a & b)
