"""Forms: JSON Schema (with x- UI keywords) → WTForms form → HTML widgets, and validation.

Pure: no Flask, no peewee, no clock. See docs/forms.md.
"""

from forms.binding import BoundForm, bind
from forms.check import check_schema
from forms.messages import MESSAGES
from forms.specs import FieldSpec, field_specs
from forms.validation import FieldError, validate
from forms.visibility import visible
from forms.wtf import form_class

__all__ = [
    "MESSAGES",
    "BoundForm",
    "FieldError",
    "FieldSpec",
    "bind",
    "check_schema",
    "field_specs",
    "form_class",
    "validate",
    "visible",
]
