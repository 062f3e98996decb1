"""Business calendars on the server side (issue 18): which days a calendar excludes and
why (:mod:`.days`, with public holidays from :mod:`.holiday_source`), and a task's schedule
with its calendars applied (:mod:`.schedule`). The shapes and value rules are
:mod:`apicron.domain.calendars`, shared with the client."""
