"""Types shared by the apps."""

from django.utils.functional import Promise

# Words for people: a str, or a lazy translation (gettext_lazy) made into one when shown.
Text = str | Promise
