"""Word lists the normalizer uses: legal forms, place names, generic descriptors and organisation types.

Kept as data beside the code (like exchange_calendars' holiday lists) so a curator can extend them without touching
the matcher. Every entry is already in normalized form: NFKC, casefolded, punctuation removed.

Why each list exists:
- legal forms say nothing about identity ("Co., Ltd." on both sides proves nothing), so they are dropped (most by
  rigour's multilingual table, see ``normalize``; here only the words rigour keeps and the Chinese suffixes);
- place names are weak identity evidence: "Hangzhou Hikvision" and "Hikvision" are the same issuer, but
  "SMIC (Beijing)" is a different legal entity from SMIC, so places are kept aside as a separate feature;
- generic descriptors ("technology", "digital") are shared by thousands of issuers, so on their own they never make
  a match; the matcher requires a distinctive token (the pitfall in ``reference/libraries.md`` §7.9);
- organisation types ("institute", "bureau") mark government bodies and research institutes, which must not be
  matched to a company that merely shares a word.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


# English legal forms as token sequences, longest first, anywhere in the name. rigour's multilingual table runs
# first (normalize.py); this list catches the words rigour keeps ("Corporation", "Company", "Co.") and is the
# legal vocabulary name spotting (feeds/spotting.py) skips in rule text.
LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        (
            tuple(form.split())
            for form in (
                "co ltd",
                "co limited",
                "company ltd",
                "company limited",
                "corporation limited",
                "corp ltd",
                "joint stock company",
                "joint stock limited company",
                "joint stock co ltd",
                "joint stock co",
                "joint stock",  # what rigour leaves of "Joint Stock Limited Company"
                "stock company",
                "limited liability company",
                "limited company",
                "public limited company",
                "company",
                "co",
                "corp",
                "corporation",
                "inc",
                "incorporated",
                "ltd",
                "limited",
                "llc",
                "plc",
                "lp",
                "llp",
                "sa",
                "ag",
                "gmbh",
                "bv",
                "nv",
                "kk",
                "pte",
                "pty",
                "jsc",
                "ojsc",
                "pjsc",
                "ooo",
                "zao",
                "oao",
                "s a",
            )
        ),
        key=len,
        reverse=True,
    )
)

# Chinese legal suffixes, stripped from the end of a Han name (longest first).
HAN_LEGAL_SUFFIXES: tuple[str, ...] = (
    # 集团 (group) and 控股 (holding) stay: "浪潮集团" (Inspur Group) is not "浪潮" (an Inspur brand)
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "公司",
)
HAN_WEAK_SUFFIXES: tuple[str, ...] = ("集团", "控股", "股份")

STOPWORDS: frozenset[str] = frozenset({"of", "and", "the", "for", "de", "a", "an", "in", "at", "on", "aka", "fka"})

# Places that prefix or qualify Chinese (and a few other) company names. Pinyin and common English spellings.
PLACES: frozenset[str] = frozenset(
    _words(
        # countries and regions
        "china chinese prc hongkong macau macao taiwan singapore japan korea usa america american us uk russia "
        "germany india vietnam malaysia "
        # provinces and autonomous regions
        "anhui beijing chongqing fujian gansu guangdong guangxi guizhou hainan hebei heilongjiang henan hubei hunan "
        "jiangsu jiangxi jilin liaoning ningxia qinghai shaanxi shandong shanghai shanxi sichuan tianjin xinjiang "
        "xizang tibet yunnan zhejiang neimenggu mongolia innermongolia "
        # prefecture-level and major cities
        "hangzhou shenzhen xiamen hefei wuhan nanjing suzhou wuxi changzhou nantong ningbo wenzhou shaoxing jiaxing "
        "huzhou jinhua taizhou guangzhou dongguan foshan zhuhai zhongshan huizhou shantou chengdu mianyang "
        "xian xi'an qingdao jinan yantai weifang zibo dalian shenyang harbin changchun changsha zhuzhou zhengzhou "
        "luoyang nanchang ganzhou fuzhou quanzhou kunming guiyang nanning lanzhou yinchuan xining hohhot baotou "
        "taiyuan shijiazhuang tangshan baoding haikou sanya lhasa hefei wuhu bengbu yangzhou zhenjiang xuzhou "
        "lianyungang yancheng huaian kunshan jiangyin zhangjiagang changshu yiwu shunde "
        # Xinjiang localities that recur on the Entity List
        "urumqi aksu altay bayingolin bortala changji hami hotan hetian ili kashgar kashi karamay kizilsu shihezi "
        "tacheng tumushuke turfan turpan wujiaqu shanshan korla kuqa "
        # abbreviations that stand for places in company names
        "sz sh bj hk gz"
    )
)
# Two-word places, joined when seen as consecutive tokens.
PLACE_PHRASES: dict[tuple[str, ...], str] = {
    ("hong", "kong"): "hongkong",
    ("inner", "mongolia"): "innermongolia",
    ("united", "states"): "usa",
    ("xi", "an"): "xian",
}

HAN_PLACES: tuple[str, ...] = tuple(
    sorted(
        _words(
            "中国 中华 香港 澳门 台湾 北京 上海 天津 重庆 安徽 福建 甘肃 广东 广西 贵州 海南 "
            "河北 黑龙江 河南 湖北 湖南 江苏 江西 吉林 辽宁 宁夏 青海 陕西 山东 山西 四川 新疆 "
            "西藏 云南 浙江 内蒙古 杭州 深圳 厦门 合肥 武汉 南京 苏州 无锡 常州 南通 宁波 温州 "
            "绍兴 嘉兴 湖州 金华 台州 广州 东莞 佛山 珠海 中山 惠州 汕头 成都 绵阳 西安 青岛 "
            "济南 烟台 大连 沈阳 哈尔滨 长春 长沙 郑州 洛阳 南昌 福州 泉州 昆明 贵阳 南宁 兰州 "
            "银川 西宁 呼和浩特 太原 石家庄 海口 芜湖 扬州 徐州 乌鲁木齐 阿克苏 喀什 和田 克拉玛依 石河子 鄯善 "
            "昌吉"
        ),
        key=len,
        reverse=True,
    )
)
HAN_PLACE_SUFFIXES: tuple[str, ...] = ("省", "市", "区", "县")

# Descriptors shared by many issuers. Weighted low, never enough for a match on their own. Stemmed forms.
GENERIC: frozenset[str] = frozenset(
    _words(
        "technology tech techno science scientific sci digital electronic electronics electric electrical electro "
        "information info communication telecom telecommunication network system software semiconductor "
        "microelectronic microelectronics integrated circuit manufacturing manufacture industry industrial "
        "international global development investment holding group enterprise trading trade import export "
        "material new energy power equipment machinery machine engineering construction service solution product "
        "research design intelligent intelligence smart optical optoelectronic optic optoelectronics photonic "
        "photonics precision instrument automation control security secure data cloud computer computing net "
        "web internet online media culture logistic logistics shipping transport transportation aviation aerospace "
        "space defense defence chemical pharmaceutical pharma biotech biotechnology biological bio medical health "
        "life food textile garment fashion apparel metal steel mining resource petroleum oil gas coal environmental "
        "environment agriculture agricultural commercial finance financial capital bank insurance securities asset "
        "management estate property land city urban municipal public state national general central united union "
        "associated joint stock share applied advanced modern innovation innovative creative dynamic micro nano "
        "device component part module chip wafer silicon solar photovoltaic battery vehicle auto automotive motor "
        "ship shipbuilding marine ocean heavy light north northern south southern east eastern west western "
        "northeast northwest southeast southwest high hi new advanced first great greater star universal "
        "image imaging vision video audio sound display screen light lighting laser sensor sensing measurement "
        "testing test inspection analysis analytic analytics fibre fiber cable wire optic wireless mobile "
        "satellite radar navigation nuclear chemical fine special supply supplies distribution sale sales "
        "consulting consultancy operation operating platform venture partner partners "
        "biology biopharmaceutical genomic gene genetic diagnostic diagnostics hospitality travel hotel "
        "property real construction building infrastructure railway rail road port airport water"
    )
)

# Organisation types of bodies that are not companies; a match must not bridge one of these to a company.
ORG_TYPES: frozenset[str] = frozenset(
    _words(
        "institute institution university academy college school bureau police ministry department agency "
        "administration government committee commission office army navy corps brigade regiment battalion "
        "division laboratory lab hospital prison camp court procuratorate center centre station association "
        "society foundation council party"
    )
)

# Plural and variant spellings folded together before comparison.
TOKEN_FOLDS: dict[str, str] = {
    "technologies": "technology",
    "techs": "tech",
    "industries": "industry",
    "holdings": "holding",
    "communications": "communication",
    "telecommunications": "telecommunication",
    "systems": "system",
    "networks": "network",
    "services": "service",
    "solutions": "solution",
    "products": "product",
    "materials": "material",
    "devices": "device",
    "components": "component",
    "parts": "part",
    "sciences": "science",
    "resources": "resource",
    "chemicals": "chemical",
    "pharmaceuticals": "pharmaceutical",
    "metals": "metal",
    "textiles": "textile",
    "dynamics": "dynamic",
    "instruments": "instrument",
    "semiconductors": "semiconductor",
    "microsystems": "microsystem",
    "enterprises": "enterprise",
    "properties": "property",
    "foods": "food",
    "sensors": "sensor",
    "chips": "chip",
    "vehicles": "vehicle",
    "motors": "motor",
    "machines": "machine",
    "optics": "optic",
    "partners": "partner",
    "centre": "center",
    "labs": "lab",
    "laboratories": "laboratory",
    "institutes": "institute",
    "universities": "university",
    "bureaus": "bureau",
    "intl": "international",
    "int'l": "international",
    "tech.": "tech",
    "grp": "group",
    "hldgs": "holding",
    "hldg": "holding",
    "mfg": "manufacturing",
    "elec": "electronic",
    "electronics": "electronic",
    "electrics": "electric",
    "photonics": "photonic",
    "optoelectronics": "optoelectronic",
    "microelectronics": "microelectronic",
    "genomics": "genomic",
    "logistics": "logistic",
    "analytics": "analytic",
    "diagnostics": "diagnostic",
    "biologics": "biologic",
}

# Entity List country strings are often long ("CHINA, PEOPLE'S REPUBLIC OF"); the matcher compares ISO codes.
# Mainland China, Hong Kong and Macau issuers list in each other's markets, so they count as one region.
COUNTRY_REGIONS: dict[str, str] = {"CN": "CN", "HK": "CN", "MO": "CN"}


# Chinese trade words and their English in company names, for pinyin spellings of Chinese names (derive.py):
# a rule writes 天津曙光计算机产业 as "Tianjin Shuguang Computer Industry", the brand in pinyin, the trade in English.
# Longest entries win; anything not listed is read as brand characters and spelt in pinyin.
HAN_GLOSSARY: dict[str, str] = {
    "集成电路": "integrated circuit",
    "半导体": "semiconductor",
    "微电子": "microelectronics",
    "计算机": "computer",
    "新能源": "new energy",
    "机器人": "robot",
    "研究院": "research institute",
    "研究所": "research institute",
    "公安局": "public security bureau",
    "信息": "information",
    "技术": "technology",
    "科技": "technology",
    "电子": "electronics",
    "通信": "communication",
    "通讯": "communication",
    "网络": "network",
    "软件": "software",
    "数字": "digital",
    "数据": "data",
    "智能": "intelligent",
    "智慧": "smart",
    "产业": "industry",
    "工业": "industrial",
    "实业": "industrial",
    "集团": "group",
    "控股": "holding",
    "投资": "investment",
    "发展": "development",
    "开发": "development",
    "能源": "energy",
    "材料": "material",
    "光电": "optoelectronic",
    "光学": "optical",
    "光纤": "optical fiber",
    "光缆": "cable",
    "设备": "equipment",
    "装备": "equipment",
    "制造": "manufacturing",
    "医药": "pharmaceutical",
    "生物": "biological",
    "基因": "gene",
    "化工": "chemical",
    "纺织": "textile",
    "色纺": "textile",
    "服装": "garment",
    "时尚": "fashion",
    "精密": "precision",
    "仪器": "instrument",
    "系统": "system",
    "工程": "engineering",
    "建设": "construction",
    "建筑": "construction",
    "贸易": "trading",
    "国际": "international",
    "安全": "security",
    "视频": "video",
    "航空": "aviation",
    "航天": "aerospace",
    "船舶": "shipbuilding",
    "重工": "heavy industry",
    "汽车": "automobile",
    "电气": "electric",
    "电器": "electric",
    "电力": "power",
    "核电": "nuclear power",
    "硅业": "silicon industry",
    "物流": "logistics",
    "交通": "communications",
    "设计": "design",
    "新材料": "new material",
    "大学": "university",
}

# Chinese places as a rule spells them (HAN_PLACES), so a pinyin name's place is the one PLACES knows.
HAN_PLACE_PINYIN: dict[str, str] = {
    "呼和浩特": "hohhot",
    "乌鲁木齐": "urumqi",
    "克拉玛依": "karamay",
    "黑龙江": "heilongjiang",
    "内蒙古": "innermongolia",
    "哈尔滨": "harbin",
    "石家庄": "shijiazhuang",
    "阿克苏": "aksu",
    "石河子": "shihezi",
    "中国": "china",
    "中华": "china",
    "香港": "hongkong",
    "澳门": "macau",
    "台湾": "taiwan",
    "北京": "beijing",
    "上海": "shanghai",
    "天津": "tianjin",
    "重庆": "chongqing",
    "安徽": "anhui",
    "福建": "fujian",
    "甘肃": "gansu",
    "广东": "guangdong",
    "广西": "guangxi",
    "贵州": "guizhou",
    "海南": "hainan",
    "河北": "hebei",
    "河南": "henan",
    "湖北": "hubei",
    "湖南": "hunan",
    "江苏": "jiangsu",
    "江西": "jiangxi",
    "吉林": "jilin",
    "辽宁": "liaoning",
    "宁夏": "ningxia",
    "青海": "qinghai",
    "陕西": "shaanxi",
    "山东": "shandong",
    "山西": "shanxi",
    "四川": "sichuan",
    "新疆": "xinjiang",
    "西藏": "tibet",
    "云南": "yunnan",
    "浙江": "zhejiang",
    "杭州": "hangzhou",
    "深圳": "shenzhen",
    "厦门": "xiamen",
    "合肥": "hefei",
    "武汉": "wuhan",
    "南京": "nanjing",
    "苏州": "suzhou",
    "无锡": "wuxi",
    "常州": "changzhou",
    "南通": "nantong",
    "宁波": "ningbo",
    "温州": "wenzhou",
    "绍兴": "shaoxing",
    "嘉兴": "jiaxing",
    "湖州": "huzhou",
    "金华": "jinhua",
    "台州": "taizhou",
    "广州": "guangzhou",
    "东莞": "dongguan",
    "佛山": "foshan",
    "珠海": "zhuhai",
    "中山": "zhongshan",
    "惠州": "huizhou",
    "汕头": "shantou",
    "成都": "chengdu",
    "绵阳": "mianyang",
    "西安": "xian",
    "青岛": "qingdao",
    "济南": "jinan",
    "烟台": "yantai",
    "大连": "dalian",
    "沈阳": "shenyang",
    "长春": "changchun",
    "长沙": "changsha",
    "郑州": "zhengzhou",
    "洛阳": "luoyang",
    "南昌": "nanchang",
    "福州": "fuzhou",
    "泉州": "quanzhou",
    "昆明": "kunming",
    "贵阳": "guiyang",
    "南宁": "nanning",
    "兰州": "lanzhou",
    "银川": "yinchuan",
    "西宁": "xining",
    "太原": "taiyuan",
    "海口": "haikou",
    "芜湖": "wuhu",
    "扬州": "yangzhou",
    "徐州": "xuzhou",
    "喀什": "kashi",
    "和田": "hetian",
    "鄯善": "shanshan",
    "昌吉": "changji",
}
