"""The Chinese texts of the import file format and its row-by-row report (ARC-11).

ARC-11 asks for the report "in Chinese" whatever the reader's interface language, and the template's
headers are the contract of a Chinese file format, so these strings are written in Chinese here —
the one place in Kestrel that bypasses gettext. Everything else (API errors, CLI output) is
translated as usual.
"""

# --- Report reasons ------------------------------------------------------------------------------
REQUIRED = "必填项不能为空"
TOO_LONG_CELL = "单元格内容过长（超过 {limit} 个字符）"
TOO_LONG = "内容过长（最多 {limit} 个字符）"
FORMULA = "单元格包含公式，系统不计算公式，请填写数值或文本"
NUL_CHARACTER = "单元格包含非法控制字符"
CREDIT_CODE_FORMAT = "统一社会信用代码格式错误：应为18位数字或大写字母（不含 I、O、Z、S、V）"
CREDIT_CODE_CHECK = "统一社会信用代码校验位错误"
PHONE = "电话号码格式错误：应为11位手机号或带区号的固定电话（如 010-12345678）"
POSTAL_CODE = "邮政编码应为6位数字"
EMAIL = "电子邮箱格式错误"
URL = "网址格式错误"
DATE = "日期格式错误：请使用 2024-01-31 格式"
NUMBER = "数字格式错误"
NEGATIVE = "不能为负数"
DECIMAL_TOO_BIG = "金额超出范围"
UNKNOWN_CHOICE = "“{value}”不是可选值，可选：{choices}"
UNKNOWN_REGION = "未找到地区“{value}”：请填写“省/市/区”名称（如 上海市/浦东新区）或行政区划代码"
AMBIGUOUS_REGION = "地区“{value}”不唯一，请填写完整的“省/市/区”或行政区划代码"
UNKNOWN_INDUSTRY = "未找到行业“{value}”"
UNKNOWN_GRADE = "未找到客户等级“{value}”"
NO_GRADE_SCHEME = "系统尚未设置主客户等级方案，不能导入等级"
UNKNOWN_OWNER = "未找到负责人“{value}”（按工号、用户名或姓名查找，仅限您数据权限范围内的在职员工）"
AMBIGUOUS_OWNER = "负责人“{value}”有重名，请填写工号"
NO_OWNER = "请填写负责人：您的账号没有对应的员工档案"
UNKNOWN_HEADER = "无法识别的列“{value}”，已忽略"
DUPLICATE_IN_FILE = "与第 {row} 行重复"
CODE_EXISTS = "客户编码已存在"
CREDIT_CODE_EXISTS = "统一社会信用代码已被其他客户登记"
NOT_FOUND_FOR_UPDATE = "未找到可更新的匹配客户"
MATCH_NOT_READABLE = "匹配到的客户不在您的数据权限范围内，不能更新"
MATCH_KEY_EMPTY = "匹配字段为空，无法匹配已有客户"
MATCH_AMBIGUOUS = "匹配到多个已有客户，请改用客户编码或统一社会信用代码匹配"
LIKELY_DUPLICATE_IN_FILE = "疑似重复：与第 {row} 行名称和电话相同"
LIKELY_DUPLICATE_IN_DB = "疑似重复：已有客户“{value}”名称和电话相同"
UNKNOWN_CUSTOMER = "未找到所属客户“{value}”（按客户编码或统一社会信用代码查找，仅限您可查看的客户）"
CONTACT_NOT_FOUND_FOR_UPDATE = "未找到可更新的匹配联系人"
INVALID = "数据无效：{detail}"
WRITE_FAILED = "写入数据库失败（数据可能在检查后被他人修改），本次导入未保存任何数据，请重新导入"
ROW_LIMIT = "文件超过 {limit} 行"
# Whole-file refusals, by error code (the API answers them in the user's language; the report is Chinese).
FILE_REFUSED = {
    "import_too_many_rows": "文件行数超过上限（{limit} 行），请拆分后导入",
    "import_file_too_large": "文件过大（上限 {limit} 字节）",
    "import_file_unreadable": "无法读取文件：不是有效的 .xlsx 或 .csv 文件",
    "import_file_empty": "文件为空或没有标题行",
    "import_zip_bomb": "文件解压后体积异常（疑似压缩炸弹），已拒绝",
    "import_xml_refused": "文件包含不允许的 XML 声明（DTD/实体），已拒绝",
    "import_macros_refused": "文件包含宏，请另存为不含宏的 .xlsx",
    "import_unsupported_format": "仅支持 .xlsx 和 .csv 文件",
    "import_columns_missing": "缺少必需的列：{missing}",
}

# Report severities
ERROR = "错误"
WARNING = "警告"

# --- Template ------------------------------------------------------------------------------------
TEMPLATE_SHEET = "导入数据"
NOTES_SHEET = "填写说明"
NOTES_HEADER = ("列名", "必填", "说明 / 可选值")
YES = "是"
NO = ""
NOTES_INTRO = (
    "第一行为列名，可使用中文列名或字段名；第二行为示例，导入前请删除。"
    "日期格式 2024-01-31；金额为数字；地区填写“省/市/区”名称或行政区划代码；"
    "负责人填写工号、用户名或姓名（留空则为导入人）；公式不会被计算。"
)

# --- Column labels (headers of the template; a header may also be the field name) -----------------
CUSTOMER_LABELS = {
    "code": "客户编码",
    "name": "客户名称",
    "short_name": "简称",
    "credit_code": "统一社会信用代码",
    "kind": "客户类型",
    "industry": "行业",
    "region": "地区",
    "address": "地址",
    "postal_code": "邮政编码",
    "phone": "电话",
    "fax": "传真",
    "email": "电子邮箱",
    "website": "网址",
    "legal_representative": "法定代表人",
    "founded_on": "成立日期",
    "registered_capital": "注册资本",
    "organisation_form": "组织形式",
    "staff_count": "员工人数",
    "annual_sales": "年销售额",
    "assets": "资产总额",
    "currency": "币种",
    "taxpayer_type": "纳税人类型",
    "tax_rate": "税率(%)",
    "invoice_title": "开票抬头",
    "invoice_address": "开票地址电话",
    "payment_terms": "付款条件",
    "discount_terms": "折扣条件",
    "credit_limit": "信用额度",
    "sales_limit": "销售限额",
    "commission_code": "提成代码",
    "source": "客户来源",
    "referrer": "介绍人",
    "lifecycle_stage": "生命周期阶段",
    "confidentiality": "保密级别",
    "status": "状态",
    "owner": "负责人",
    "grade": "客户等级",
    "tags": "标签",
}

CONTACT_LABELS = {
    "customer": "所属客户编码",
    "name": "姓名",
    "title": "职务",
    "department": "部门",
    "mobile": "手机",
    "phone": "办公电话",
    "email": "电子邮箱",
    "wechat": "微信",
    "birthday": "生日",
    "gender": "性别",
    "education": "学历",
    "hobbies": "爱好与性格",
    "family_notes": "家庭情况",
    "decision_role": "决策角色",
    "is_primary": "主要联系人",
    "consent_contact": "同意联系",
    "consent_marketing": "同意营销",
}

# Enumerations: value → Chinese label (a cell may hold either).
CHOICE_LABELS = {
    "kind": {
        "enterprise": "企业",
        "individual": "个人",
        "dealer": "经销商/中间商",
        "manufacturer": "生产商",
        "group": "集团",
        "family": "家庭",
        "vip": "VIP",
    },
    "status": {
        "active": "正常",
        "credit_suspended": "暂停信用",
        "blacklisted": "黑名单",
        "archived": "已归档",
    },
    "confidentiality": {"company": "公司级", "department": "部门级", "personal": "个人级"},
    "lifecycle_stage": {
        "acquisition": "开发期",
        "growth": "成长期",
        "maturity": "成熟期",
        "decline": "衰退期",
        "exit": "退出期",
    },
    "taxpayer_type": {"general": "一般纳税人", "small": "小规模纳税人", "": "不适用"},
    "source": {
        "visit": "业务拜访",
        "referral": "转介绍",
        "exhibition": "展会",
        "advertising": "广告",
        "website": "网站",
        "phone": "来电",
        "walk_in": "上门",
        "self_service": "自助填写",
        "import": "导入",
        "other": "其他",
    },
    "gender": {"male": "男", "female": "女", "": "未知"},
    "decision_role": {
        "decision_maker": "决策者",
        "influencer": "影响者",
        "user": "使用者",
        "purchaser": "采购",
        "gatekeeper": "把关者",
        "other": "其他",
    },
}

TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓"}
FALSE_WORDS = {"否", "n", "no", "false", "0", ""}
BOOLEAN_HELP = "是 / 否"

CUSTOMER_EXAMPLE = {
    "code": "C2026000001",
    "name": "上海示例贸易有限公司",
    "short_name": "示例贸易",
    "credit_code": "91310000MA1FL8TQ36",
    "kind": "企业",
    "region": "上海市/浦东新区",
    "address": "世纪大道100号",
    "postal_code": "200120",
    "phone": "021-58881234",
    "email": "info@example.com",
    "founded_on": "2018-05-20",
    "registered_capital": "1000000",
    "credit_limit": "500000",
    "status": "正常",
    "confidentiality": "部门级",
    "tags": "重点;华东",
}

CONTACT_EXAMPLE = {
    "customer": "C2026000001",
    "name": "张伟",
    "title": "采购经理",
    "mobile": "13812345678",
    "email": "zhangwei@example.com",
    "birthday": "1985-03-12",
    "gender": "男",
    "decision_role": "决策者",
    "is_primary": "是",
}
