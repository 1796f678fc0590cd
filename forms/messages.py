"""Every message id the forms package shows, for the translation catalogue.

Messages are English msgids with ``%(name)s`` parameters; callers pass a
``gettext`` (the pages pass ``flask_babel.gettext``) and the zh-CN catalogue is
maintained with the rest of the application's translations.
"""

from __future__ import annotations

# Answers (validate / bind).
REQUIRED = "This field is required."
NOT_OBJECT = "The answers must be a JSON object."
UNKNOWN_FIELD = "This field is not part of the form."
ROW_NOT_OBJECT = "Each row must be an object."
TYPE_STRING = "Enter text."
TYPE_INTEGER = "Enter a whole number."
TYPE_NUMBER = "Enter a number."
TYPE_BOOLEAN = "Choose yes or no."
TYPE_ARRAY = "Choose a list of values."
MIN_LENGTH = "Enter at least %(min)s characters."
MAX_LENGTH = "Enter at most %(max)s characters."
PATTERN = "Enter a value in the expected format."
FORMAT_EMAIL = "Enter a valid email address."
FORMAT_URI = "Enter a valid web address starting with http:// or https://."
FORMAT_DATE = "Enter a valid date (YYYY-MM-DD)."
FORMAT_DATETIME = "Enter a valid date and time."
FORMAT_TIME = "Enter a valid time (HH:MM)."
FORMAT_PHONE = "Enter a valid mobile or landline number."
FORMAT_ATTACHMENT = "This attachment is not valid."
FORMAT_MOBILE = "Enter an 11-digit mobile number."
FORMAT_LANDLINE = "Enter a landline number, e.g. 0571-88886666."
FORMAT_ID_CARD = "Enter a valid 18-character identity card number."
FORMAT_USCC = "Enter a valid 18-character unified social credit code."
FORMAT_PLATE = "Enter a vehicle plate, e.g. 浙A12345."
FORMAT_POSTCODE = "Enter a six-digit postal code."
FORMAT_ROOM = "Enter building and room, e.g. 3-502."
CHOICE = "Choose one of the offered options."
MINIMUM = "Enter a number no less than %(min)s."
MAXIMUM = "Enter a number no greater than %(max)s."
EXCLUSIVE_MINIMUM = "Enter a number greater than %(min)s."
EXCLUSIVE_MAXIMUM = "Enter a number less than %(max)s."
MULTIPLE_OF = "Enter a multiple of %(step)s."
MIN_CHOICES = "Choose at least %(min)s options."
MAX_CHOICES = "Choose at most %(max)s options."
MIN_ROWS = "Add at least %(min)s rows."
MAX_ROWS = "Add at most %(max)s rows."
MIN_FILES = "Upload at least %(min)s files."
MAX_FILES = "Upload at most %(max)s files."
UNIQUE = "Each value may be given only once."
INVALID = "This value is not valid."
RULE_FAILED = "The condition for showing %(field)s could not be evaluated (%(path)s): %(reason)s"

# Schema checks (check_schema).
SCHEMA_NOT_OBJECT = "A form schema must be a JSON object."
SCHEMA_META = "Not valid JSON Schema: %(reason)s"
# A meta-schema error at a plain value (a misspelt type, a format that is no text …).
SCHEMA_META_VALUE = "'%(value)s' is not allowed here in a form"
SCHEMA_ROOT_TYPE = 'A form schema must have "type": "object".'
SCHEMA_KEYWORD = "Keyword %(keyword)s is not supported here."
SCHEMA_TYPE = "Type %(type)s is not supported; use string, integer, number, boolean or array."
SCHEMA_FIELD_NOT_OBJECT = "A field must be described by a JSON object."
SCHEMA_FIELD_NAME = (
    "Field name %(name)s must start with a letter and contain only letters, digits and _."
)
SCHEMA_FIELD_RESERVED = "Field name %(name)s is reserved."
SCHEMA_REQUIRED_UNKNOWN = "Required field %(name)s is not among the properties."
SCHEMA_WIDGET = "Widget %(widget)s does not fit this field; use one of: %(allowed)s."
SCHEMA_FORMAT = "Format %(format)s is not supported; use one of: %(allowed)s."
SCHEMA_PATTERN = "Invalid regular expression: %(reason)s"
SCHEMA_STRING = "This keyword must be a text."
SCHEMA_BOOLEAN = "This keyword must be true or false."
SCHEMA_OPTIONS = "Options must be a non-empty list of distinct values of the field's type."
SCHEMA_OPTION = 'An option must be {"const": <value>, "title": "<label>"}.'
SCHEMA_ITEMS = (
    "A list field must hold options (enum or oneOf), attachments "
    '(format "attachment") or rows (type "object").'
)
SCHEMA_RULE = "Invalid condition: %(reason)s"
SCHEMA_NESTED_GROUP = "A repeatable group may not contain another list of rows."
SCHEMA_DEFAULT = "The default value does not fit the field: %(reason)s"
SCHEMA_VAR = "A condition may only read data.<field>%(row)s or context values, not %(var)s."
SCHEMA_VAR_ROW = ", row.<field>"
SCHEMA_VAR_LITERAL = "The name read by var must be written as a literal text."
SCHEMA_VAR_UNKNOWN = "The condition reads %(var)s but the form has no field %(name)s."
SCHEMA_VAR_SELF = "A field's condition may not depend on the field itself."

# Template words (rendered with the application's _()).
UI_ADD_ROW = "Add a row"
UI_REMOVE = "Remove"
UI_ROW = "Row %(num)s"
UI_CHOOSE = "Choose…"
UI_REQUIRED = "required"
UI_ATTACHED = "Keep this attachment"
UI_UPLOADED_PHOTO = "Uploaded photo %(n)s"
UI_UPLOADED_FILE = "Uploaded file %(n)s"
UI_CHOSEN = "%(n)s chosen"
UI_CHOOSE_PHOTOS = "Choose photos"
UI_CHOOSE_FILES = "Choose files"

MESSAGES: tuple[str, ...] = tuple(
    value for name, value in sorted(globals().items()) if name.isupper() and isinstance(value, str)
)
