# Spanish as it is written in the United States (es-US): "7 de diciembre de 2026", a
# 12-hour clock ("3:40 p. m."), and numbers as in English (1,234.5), as US forms,
# prices and lab values write them. Dates typed in forms: month first, as in the US.
DATE_FORMAT = r"j \d\e F \d\e Y"
SHORT_DATE_FORMAT = "j M Y"
YEAR_MONTH_FORMAT = r"F \d\e Y"
MONTH_DAY_FORMAT = r"j \d\e F"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = r"j \d\e F \d\e Y, g:i A"
SHORT_DATETIME_FORMAT = "j M Y, g:i A"
FIRST_DAY_OF_WEEK = 0  # Sunday, as US calendars show it
DATE_INPUT_FORMATS = ["%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S"]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
