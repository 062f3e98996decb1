"""Checks that go on past the first bad item: every problem of a request, at once.

A user who sent three wrong headers should fix all three after one answer, not after
three (new user's trial). A validator over a list runs each item's check inside
:meth:`Problems.check` and ends with :meth:`Problems.raise_any`, which raises one
:class:`InvalidInput` naming every problem (``InvalidInput.problems``; REST lists them in
``errors``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from apicron.domain.errors import InvalidInput, Problem


class Problems:
    """The problems found so far by several independent checks.

    Only :class:`InvalidInput` naming a field is collected; anything else (TooLarge: 413,
    an InvalidInput without a field) still stops at once, as it would without this.
    """

    def __init__(self) -> None:
        self.found: list[Problem] = []
        self._seen: set[Problem] = set()  # found, for a constant-time "already noted"
        self._code: str | None = None

    @contextmanager
    def check(self) -> Iterator[None]:
        """Run the block; an InvalidInput it raises is noted and the caller goes on."""
        try:
            yield
        except InvalidInput as error:
            if not error.problems:
                raise
            if self._code is None:
                self._code = error.code
            for problem in error.problems:
                self._note(problem)

    def add(self, field: str, rule: str) -> None:
        """Note one problem found without raising."""
        self._note(Problem(field, rule))

    def _note(self, problem: Problem) -> None:
        if problem not in self._seen:
            self._seen.add(problem)
            self.found.append(problem)

    def raise_any(self) -> None:
        """Raise one InvalidInput naming every problem noted (the first leads); nothing
        when there is none."""
        if self.found:
            first, *rest = self.found
            raise InvalidInput(first.rule, field=first.field, code=self._code, more=rest)
