"""Boilerplate and spam lines around an article's main text (bylines, share bars, navigation).

Used by extraction after a main-text block was chosen: such blocks still carry the CMS furniture
above and below the article. Rules are about *kinds* of lines that Chinese government, news and
forum templates print (来源/作者/字号/打印/关闭, 上一篇/下一篇, 责任编辑, 分享到, 相关阅读 ...), never
about particular sites.

    clean_lines(lines, title) -> lines        # the main text without furniture
"""

from __future__ import annotations

import re
from collections.abc import Collection

from crawlers.normalize.dates import date_matches

__all__ = ["clean_lines", "is_boilerplate", "is_byline", "is_caption", "is_prose", "is_spam", "ends_article"]

# A line made only of these words (and separators) is a tool bar: 字号：大 中 小 打印 关闭 ...
_TOOL_WORDS = re.compile(
    r"^(?:[\s|｜/·•>»【】\[\]()（）:：,，-]|字号|字体|大|中|小|默认|超大|打印|打印本页|打印文章|关闭|关闭窗口|"
    r"收藏|分享|分享到|转发|评论|点赞|在看|举报|返回顶部|返回|顶部|扫一扫|手机看|手机阅读|"
    r"微信|微博|QQ空间|qq空间|朋友圈|复制链接|【?打印】?|我要纠错|纠错|保存|字号：?|听新闻|"
    r"放大|缩小|视力保护色|A\+|A-|A|小字|大字|阅读|复制|首页|当前位置|位置|您当前的位置|"
    r"您现在的位置|上一页|下一页|查看全部|全文|展开|收起|显示全部|阅读全文|浏览次数|次|\d+|"
    r"列印|留言|轉寄|轉貼|推薦|訂閱|字級|複製連結|複製|facebook|Facebook|twitter|Twitter|LINE|Line|"
    r"plurk|email|E-mail|\+|分享給朋友|加入收藏)+$"
)
_BYLINE = re.compile(
    r"(?:来源|來源|作者|编辑|編輯|责任编辑|責任編輯|责编|记者|記者|通讯员|通訊員|撰稿|审核|審核|"
    r"发布者|發布者|浏览|瀏覽|阅读|閱讀|点击|點擊|供稿|字号|信息来源|稿源|出处|攝影|摄影|校对|校對|"
    r"排版|美编|美編|责编|監製|监制|统筹|統籌)\s*[:：/|｜丨]|^(?:文|图|圖|文字|图片|圖片)\s*[/／|｜丨]"
)
_CAPTION = re.compile(r"(?:^图为|^圖為|^图：|^圖：|^（图|^\(图|摄[）)]?$|攝[）)]?$|供图[）)]?$|"
                      r"供圖[）)]?$|资料图[）)]?$|資料圖[）)]?$|^图片来源|^圖片來源|\.(?:jpg|png|gif)$|"
                      r"[（(](?:图|圖)\s*[／/:：]|[（(](?:图|圖)(?:片)?(?:翻摄|翻攝|取自|擷取|来源|來源)|"
                      r"(?:翻摄|翻攝)自)")
_ARTICLE_END = re.compile(
    r"^(?:[【\[（(]?\s*)(?:责任编辑|責任編輯|责编|上一篇|下一篇|上一条|下一条|相关阅读|相關閱讀|"
    r"相关新闻|相關新聞|相关文章|相關文章|相关链接|延伸阅读|延伸閱讀|热门推荐|熱門推薦|推荐阅读|推薦閱讀|"
    r"猜你喜欢|其他人也在看|更多新聞|更多新闻|热点推荐|版权所有|版權所有|Copyright|©|网友评论|"
    r"網友評論|我来说两句|查看评论|精彩评论|热门评论|点击排行|本文来源|分享到|扫一扫|掃一掃|"
    r"打印本页|关闭窗口|【打印】|\[打印\]|【关闭】|\[关闭\])"
)
_SENTENCE_END = re.compile(r"[。！？!?；;]|[：:]$")
_PROSE_MIN_CHARS = 60


# Promotion and solicitation that reposting sites and apps splice into articles.
_SPAM = re.compile(
    r"(?:下载|下載)[^，。]{0,12}(?:APP|App|app|客户端|客戶端)|扫码关注|掃碼關注|关注(?:微信)?公众号|"
    r"關注(?:微信)?公眾號|长按(?:识别)?二维码|長按(?:識別)?二維碼|加微信|微信号[:：]|微信號[:：]|"
    r"代开[^，。]{0,6}发票|代開[^，。]{0,6}發票|QQ群[:：]?\d|点击(?:进入|查看更多)|點擊(?:進入|查看更多)|"
    r"(?:还|還)想看更多新(?:闻|聞)|点击(?:上方)?蓝字|點擊(?:上方)?藍字|关注我们|關注我們|设为星标|設為星標|"
    r"视频加载中|視頻加載中|影片載入中|正在加载|点击播放|點擊播放"
)


def is_spam(line: str) -> bool:
    """A short promotional line (download our app, follow our account, add WeChat ...)."""
    return len(line) <= 120 and bool(_SPAM.search(line))


def is_boilerplate(line: str) -> bool:
    """A tool bar, share bar or bare navigation line (字号：大 中 小 打印 关闭, 分享到 ...).

    A line that is only a number is text (a table cell, a figure), not a counter."""
    if re.fullmatch(r"[\d.,%]+", line):
        return False
    return bool(_TOOL_WORDS.match(line)) or ("上一篇" in line and "下一篇" in line)


def is_byline(line: str) -> bool:
    """A short line of 来源/作者/编辑/记者 labels (and dates), not a sentence of the article."""
    return len(line) <= 80 and bool(_BYLINE.search(line)) and not re.search(r"[。！？]", line)


def is_caption(line: str) -> bool:
    """A photo caption (图为..., ...摄) or an image file name."""
    return len(line) <= 150 and bool(_CAPTION.search(line))


def is_prose(line: str) -> bool:
    """A sentence of running text rather than a heading, kicker, byline or label."""
    return len(line) >= _PROSE_MIN_CHARS or bool(_SENTENCE_END.search(line))


def ends_article(line: str) -> bool:
    """A line after which a template prints only furniture (责任编辑, 上一篇, 相关阅读 ...)."""
    return bool(_ARTICLE_END.match(line))


def _same_as_title(line: str, title: str) -> bool:
    """The title again, a piece of it (a short title), or the title with a label around it."""
    a, b = _key(line), _key(title)
    if not a or not b:
        return False
    return a == b or (len(a) >= 4 and a in b) or (
        len(b) >= 6 and b in a and len(a) < len(b) + 30 and not is_prose(line))


def _key(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text).lower()


def clean_lines(lines: list[str], title: str = "", subheads: Collection[str] = ()) -> list[str]:
    """The main text of an article block without the furniture around it.

    Contract: returns a sub-list of ``lines`` in order. Leading headings, kickers, bylines, dates,
    information bars, captions, summaries, subtitles and title repetitions are dropped; a short
    line of the text itself (a first sub-head such as 一、基本情况, the short lines a blog post
    opens with) is kept when no furniture follows it before the first line of running text and
    it reads like text: numbered, emphasised in the page (``subheads``: the texts of bold lines
    and headings inside the block), a fragment with commas, or one of a run of such lines.
    Everything from an end marker (责任编辑, 上一篇, 相关阅读 ...) on is dropped, and so are
    trailing hashtag rows, promotion links and a bare (来源); tool bars anywhere are dropped.
    Promotional lines (:func:`is_spam`) are dropped wherever they are; inside the text only a
    line that *is* the title again, or a byline, goes.
    When no line looks like running text (a one-line forum post, a short notice) only the
    furniture is removed, so nothing real is lost.
    """
    kept = [line for line in lines if not is_boilerplate(line) and not is_spam(line)]
    start = 0
    for i, line in enumerate(kept):
        if is_prose(line) and not _is_leading_furniture(line, title):
            start = i
            break
    else:
        start = len(kept)
    head = kept[:start]
    furniture = [i for i, line in enumerate(head) if _is_leading_furniture(line, title)
                 or (i > 0 and _LABEL_END.search(head[i - 1]) and len(line) <= 30)]
    last_furniture = max(furniture, default=-1)
    if any(_same_as_title(line, title) for line in head):
        last_furniture = len(head) - 1  # lines after the headline up to the text: its deck
    if start == len(kept):  # no running text at all: keep everything but the furniture
        body = [line for line in kept if not _is_leading_furniture(line, title)] or kept
    else:
        opening = head[last_furniture + 1:]
        if len(opening) < _OPENING_RUN:  # a lone short line: text only if it reads like text
            opening = [line for line in opening if _NUMBERED.match(line) or line in subheads
                       or _FRAGMENT.search(line) or _DATELINE.search(line)]
        body = opening + kept[start:]
    end = len(body)
    for i, line in enumerate(body):
        if i > 0 and ends_article(line):
            end = i
            break
    kept = [line for line in body[:end] if not is_byline(line) and _key(line) != _key(title)]
    while kept and _is_trailing_furniture(kept[-1]):
        kept.pop()
    return kept


_OPENING_RUN = 3
_NUMBERED = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[、.．]\D|"
                       r"第[一二三四五六七八九十\d]+[章节條条部篇]|案例[一二三四五六七八九十\d]+|[①-⑳])")
_FRAGMENT = re.compile(r"[，,、；;]")
# A dateline lead on a line of its own: 新华社北京3月12日电, 本报讯（记者 王某）, 〔記者陳某／台南報導〕
_DATELINE = re.compile(r"\d{1,2}日(?:电|電)|(?:本报|本報|本网|本網|本站|本台)(?:讯|訊)|"
                       r"(?:记者|記者)[^。]{0,20}(?:报道|報導|讯|訊)|^[（(〔【][^）)〕】]{2,30}(?:电|電|报道|報導)[）)〕】]$")
_TRAILING = re.compile(r"^(?:#[^#\s]{1,20}#?\s*)+$|https?://|^[（(][^）)]{1,12}[）)]$|^(?:文|图|圖)\s*[/／]")


def _is_trailing_furniture(line: str) -> bool:
    """Hashtag rows, promotion links and a bare (来源) line that templates print after the text."""
    return len(line) <= 80 and bool(_TRAILING.search(line))


# Lines that open an article block without being its text: a summary box, a subtitle, the
# author's card, a kicker in brackets alone.
_LEADING = re.compile(r"^(?:[【\[]?\s*(?:摘要|内容摘要|内容提要|提要|导读|導讀|核心提示|摘編|摘编)\s*[】\]]?\s*[:：】]|"
                      r"[【\[]\s*(?:摘要|内容提要|导读|導讀|核心提示)\s*[】\]]|——|—|--|"
                      r"原标题|原標題|点击进入|點擊進入)")
# A byline label closing a line: its value is the next line (来源: | 央视).
_LABEL_END = re.compile(r"(?:来源|來源|作者|编辑|編輯|记者|記者|出处|稿源)\s*[:：]\s*$")
# An outlet's name, with the authors' names, alone on a line above the text (no label).
_OUTLET = re.compile(r"^[\u4e00-\u9fff]{2,16}(?:网站|網站|网|網|日报|日報|晚报|晚報|报|報|电视台|電視台|"
                     r"通讯社|通訊社|新闻社|新聞社|杂志|雜誌|频道|頻道|客户端|融媒体中心|纪委监委)"
                     r"(?:\s*[（(][^）)]{1,8}[）)])?(?:\s+[\u4e00-\u9fff·]{2,4}){0,4}$")
_STATS = re.compile(r"(?:粉丝|粉絲|关注|關注|文章|博文|访问|訪問|积分|積分|等级|等級)\s*[:：]?\s*[\d,]+")


def _is_leading_furniture(line: str, title: str) -> bool:
    return (is_byline(line) or is_caption(line) or _same_as_title(line, title)
            or bool(_LEADING.match(line)) or len(_STATS.findall(line)) >= 2
            or bool(_OUTLET.match(line))
            or _is_date_line(line) or _is_info_bar(line))


_DATE_LINE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")


def _is_date_line(line: str) -> bool:
    """A short line built around a date (发布时间：2024-05-01 10:00 来源：..., 清河发布 24-3-8 10:20)."""
    return len(line) <= 80 and not re.search(r"[。！？]", line) and (
        bool(_DATE_LINE.search(line)) or bool(date_matches(line)))


_BAR_WORDS = re.compile(r"来源|來源|作者|编辑|編輯|记者|記者|报导|報導|报道|浏览|瀏覽|阅读|閱讀|点击|點擊|"
                        r"字号|字號|字级|字級|字体|字體|打印|列印|分享|转寄|轉寄|收藏|评论|評論|次数|次數")


def _is_info_bar(line: str) -> bool:
    """A long information bar: a date with source, author, counters and tools, no sentence."""
    return (len(line) <= 300 and bool(_DATE_LINE.search(line)) and not re.search(r"[。！？]", line)
            and len(set(_BAR_WORDS.findall(line))) >= 2)
