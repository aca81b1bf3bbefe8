"""The patterns the reader of published letters (``replies.legacy``) matches lines against.

One place for what the districts print: the field labels, 文号, titles, dates, organ names and
the phrases that mark a reply, so that the readers of each part of a letter agree on them.
Split from ``replies.legacy`` (issue 18), which still exports every name here.
"""

from __future__ import annotations

import re

_IDEO = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = _IDEO + r"\u3000-\u303f\uff00-\uffef“”‘’…—·"
_HAS_IDEO = re.compile(rf"[{_IDEO}]")
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_ASCII_PARENS = re.compile(r"\(([^()]{0,40})\)")
_HALF_STOP = re.compile(rf"(?<=[{_IDEO}”）])\.(?=[{_IDEO}“（]|$)")
_MARKDOWN_RULE = re.compile(r"^\s*([-*_=])(\s*\1){2,}\s*$")

_FIELD_NAMES = {
    "办理结果": "result",
    "公开属性": "disclosure",
    "公开方式": "disclosure",
    "签发人": "signer",
    "联系人姓名": "person",
    "联系人": "person",
    "联系电话": "phone",
    "电话": "phone",
    "联系地址": "address",
    "通讯地址": "address",
    "通信地址": "address",
    "地址": "address",
    "邮政编码": "postcode",
    "邮编": "postcode",
    "抄送": "cc",
}
_LABEL = re.compile("(" + "|".join(sorted(_FIELD_NAMES, key=len, reverse=True)) + r")\s*[：:]\s*")
_LABEL_PREFIXES = ("", "承办单位", "办理单位", "主办单位", "单位")

#: 普发改委〔2023〕14号, and the variants copies print: 【2023】, [2023], （2023）, (2023), 第014号.
_DOC_NUMBER = re.compile(
    rf"([{_IDEO}]{{1,15}})\s*[〔【\[［（(]\s*(\d{{4}})\s*[〕】\]］）)]\s*第?\s*(\d{{1,5}})\s*号"
)
_TITLE_END = re.compile(
    r"(答复函|答复意见|再次答复|答复|会办意见函|会办意见|会办函)(?:[（(][^（）()]{1,20}[）)])?$"
)
_TITLE_FRAGMENT = re.compile(r"关于|政协|会议|提案|[对第]$")
_SESSION = re.compile(r"[一二三四五六七八九十0-9]+届[一二三四五六七八九十0-9]+次(?:全体)?会议")
_PROPOSAL_NUMBER = re.compile(
    r"(第?)\s*([0-9A-Za-zＡ-Ｚａ-ｚ]+(?:\s*[-－—–]\s*[0-9A-Za-z]+)*)\s*号\s*(提案)?"
)
_SALUTATION = re.compile(r"^[^。！？!?；;：:]{1,60}[：:]$")
_NOT_SALUTATION = re.compile(r"收悉|如下|提出|研究|答复|意见|办理|情况|现将|我们|您|你们")
_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_CN_DATE = re.compile(
    r"([〇零○Ｏ0一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"
)
_ANY_DATE = rf"(?:{_DATE.pattern}|{_CN_DATE.pattern})"
_DATE_LINE = re.compile(rf"^{_ANY_DATE}$")
_PRINTED_LINE = re.compile(rf"^(?P<by>.*?)(?P<on>{_ANY_DATE})印发$")
_NOTE_LINE = re.compile(r"^[（(]?(此件[^（）()]{1,20})[）)]?$")
_ORGAN_SUFFIX = re.compile(
    r"(委员会|办公室|人民政府|政府|办事处|管委会|局|委|办|院|所|中心|公司|集团|协会|联合会|"
    r"商会|工商联|镇|街道|区委|部|厅|署|室|处|站|队|社|组)$"
)
_PUNCTUATION = re.compile(r"[。，、；：！？,;:!?“”《》]")
_SENTENCE_END = "。！？：；!?:;…"
_CLOSERS = "”’」』）)》】〕"
_NEW_PARAGRAPH = re.compile(r"^([一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，、])")
_REPLY_PHRASES = re.compile(
    r"提案.{0,4}收悉|答复如下|函告如下|统一答复提案者|会办意见|提案的答复|办理情况答复"
)
_CO_OPINION_PHRASE = re.compile(r"供你单位.{0,6}答复")
_MEMBER_SALUTATION = re.compile(r"(委员|代表)$")

#: The labels the districts print for 办理结果 (see docs: result categories).
KNOWN_RESULT_LABELS = frozenset(
    {
        "解决采纳",
        "解决或采纳",
        "采纳解决",
        "采纳",
        "采纳或解决",
        "已解决或基本解决",
        "列入计划拟解决",
        "计划解决",
        "正在解决或已列入计划",
        "部分采纳",
        "因条件限制暂不能解决",
        "留作参考",
    }
)
_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "0": 0} | {
    c: i for i, c in enumerate("一二三四五六七八九", start=1)
}

_FULLWIDTH_LETTERS = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]}
)

# --- Web copies: the 政务公开 page around the letter (``replies.legacy_web``) -------------------

#: The metadata a district's 政务公开 page prints above (or below) a letter, and what each is.
_META_NAMES = {
    "索引号": "index_number",
    "信息索引号": "index_number",
    "主题分类": "topic",
    "主题词": "topic",
    "公开主体": "publisher",
    "发布机构": "publisher",
    "发布单位": "publisher",
    "信息来源": "publisher",
    "来源": "publisher",
    "成文日期": "written_on",
    "发文日期": "written_on",
    "生成日期": "written_on",
    "发布日期": "published_on",
    "公开日期": "published_on",
    "发文字号": "doc_number",
    "文号": "doc_number",
    "公开类型": "disclosure",
    "公开属性": "disclosure",
    "公开方式": "disclosure",
    "公开范围": "scope",
    "体裁分类": "genre",
    "组配分类": "genre",
    "有效性": "validity",
    "关键词": "keywords",
    "名称": "name",
    "信息名称": "name",
    "标题": "name",
}
_META_LABEL = re.compile(
    r"(?<![\u4e00-\u9fff])("
    + "|".join(sorted(_META_NAMES, key=len, reverse=True))
    + r")\s*[：:]\s*"
)
_META_LABEL_ONLY = re.compile(
    "^(" + "|".join(sorted(_META_NAMES, key=len, reverse=True)) + r")\s*[：:]?$"
)
#: Breadcrumbs, buttons and widgets of the page: never part of a letter.
_BREADCRUMB = re.compile(
    r"^(?:当前位置|您当前的位置|您现在的位置|您的位置|所在位置)\s*[：:]|^首页\s*[>＞›»/|]"
)
_BUTTON = (
    r"打印本页|打印此页|打印|关闭窗口|关闭本页|关闭|返回顶部|返回|收藏本页|收藏|分享到[：:]?|"
    r"分享至[：:]?|微信|微博|QQ空间|扫一扫|字体[：:]?|字号[：:]?|大|中|小|默认"
)
_BUTTONS = re.compile(rf"^(?:[【\[（(]?\s*(?:{_BUTTON})\s*[】\]）)]?\s*[|｜/]?\s*)+$")
_COUNTER = re.compile(r"^(?:浏览次数|访问次数|阅读次数|点击数|点击量|浏览量)\s*[：:]?\s*\d*次?$")
_PREV_NEXT = re.compile(r"^(?:上一篇|下一篇)\s*[：:]")
#: Parts of a 文号 split over lines: the year in brackets, then the number.
_DOC_YEAR_PART = re.compile(r"^[〔【\[［（(]\s*\d{4}\s*[〕】\]］）)]$")
_DOC_SERIAL_PART = re.compile(r"^第?\s*\d{1,5}\s*号$")
#: Members (or groups) named in a body: 张三、李四委员提出的…, 民革区委提出的…
_BODY_MEMBERS = re.compile(
    r"((?:(?!等)[\u4e00-\u9fff·]){2,4}(?:[、，,](?:(?!等)[\u4e00-\u9fff·]){2,4})*)(等)?"
    r"(?:\d+位|[一二三四五六七八九十]+位)?(?:委员|代表)"
    r"(?:联名)?(?:提出|所提|领衔|撰写)"
)
_BODY_GROUP = re.compile(
    r"(?:由|你们|贵|主办的)?((?:区政协)?[\u4e00-\u9fff]{1,12}?"
    r"(?:界别组|界别|委员小组|区委|区委员会|支部|支社|总支|专委会|专门委员会|工商联|妇联|团区委|"
    r"总工会|科协|侨联|台联|青联|联合会))(?:集体)?(?:提出|所提)"
)
_LEAD_UNIT = re.compile(r"由([\u4e00-\u9fff]{2,20}?)(?:主办|牵头办理|负责主办)")
_SEPARATE = re.compile(r"分办|分别办理")
_EARLIER_RESULT = re.compile(
    r"(?:原|上次|首次|此前|去年|前次)?(?:答复的?)?办理结果(?:为|是|：|:)\s*[“\"]?"
    r"([\u4e00-\u9fff]{2,12}?)[”\"]?(?:[，。；,;）)]|$)"
)
_ATTACHMENT = re.compile(r"^附件\s*[：:]|^附件\s*\d|^附\s*[：:]")
