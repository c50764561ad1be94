"""SQL for what Chinese extracts need, as sqlglot trees: resident ID numbers and two-digit years.

A resident ID number (GB 11643) carries its holder's birth date and gender: 18 characters, the birth
date at 7–14, an odd 17th digit for a man, a MOD 11-2 check character last; the legacy 15-digit form
has a six-digit birth date (19yy) and the gender digit last. The helpers read them in DuckDB before the
number is hashed, and say why a number cannot be read (`bad_identifier`, `bad_check_digit`).

A two-digit year (`%y`) is read in the century a mapping names by its pivot: with pivot 1930, `45`
is 1945 and `29` is 2029. DuckDB's own rule (00–68 -> 20xx) would make a 1945 birth date 2045.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from lingxi.engine.sql import lit

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def _fn(name: str, *args: exp.Expr) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _substr(text: exp.Expr, start: int, length: int) -> exp.Substring:
    return exp.Substring(this=text.copy(), start=lit(start), length=lit(length))


def _digit(text: exp.Expr, position: int) -> exp.Expr:
    return exp.TryCast(this=_substr(text, position, 1), to=exp.DataType.build("INT"))


@dataclass(frozen=True)
class IdNumber:
    """Trees over one ID-number expression: is it readable, its birth date and gender, and its problem."""

    text: exp.Expr  # upper-cased, trimmed text of the number

    @classmethod
    def of(cls, value: exp.Expr) -> IdNumber:
        as_text = exp.Cast(this=value, to=exp.DataType.build("VARCHAR"))
        return cls(exp.Upper(this=exp.Trim(this=as_text)))

    def _matches(self, pattern: str) -> exp.Expr:
        return _fn("regexp_full_match", self.text.copy(), lit(pattern))

    @property
    def long_form(self) -> exp.Expr:
        return self._matches("[0-9]{17}[0-9X]")

    @property
    def short_form(self) -> exp.Expr:
        return self._matches("[0-9]{15}")

    @property
    def check_ok(self) -> exp.Expr:
        total: exp.Expr = exp.paren(
            _sum([exp.Mul(this=_digit(self.text, i + 1), expression=lit(w)) for i, w in enumerate(_WEIGHTS)])
        )
        index = exp.Mod(this=total, expression=lit(11)) + lit(1)
        expected = exp.Substring(this=lit(_CHECK), start=index, length=lit(1))
        return exp.EQ(this=expected, expression=_substr(self.text, 18, 1))

    def _birth_text(self) -> exp.Expr:
        return exp.Case(
            ifs=[
                exp.If(this=self.long_form, true=_substr(self.text, 7, 8)),
                exp.If(this=self.short_form, true=exp.DPipe(this=lit("19"), expression=_substr(self.text, 7, 6))),
            ]
        )

    def _parsed_birth(self) -> exp.Expr:
        return exp.cast(_fn("try_strptime", self._birth_text(), lit("%Y%m%d")), exp.DataType.Type.DATE)

    @property
    def readable(self) -> exp.Expr:
        """A well-formed number with a good check character (15-digit numbers have none) and a real date."""
        form = exp.or_(exp.and_(self.long_form, self.check_ok), self.short_form)
        return exp.and_(exp.paren(form), self._parsed_birth().is_(exp.null()).not_())

    @property
    def problem(self) -> exp.Case:
        """NULL for an empty or readable number, else `bad_check_digit` or `bad_identifier`."""
        return exp.Case(
            ifs=[
                exp.If(this=exp.or_(self.text.copy().is_(exp.null()), self.text.copy().eq(lit(""))), true=exp.null()),
                exp.If(this=exp.and_(self.long_form, self.check_ok.not_()), true=lit("bad_check_digit")),
                exp.If(this=self.readable.not_(), true=lit("bad_identifier")),
            ]
        )

    @property
    def birth_date(self) -> exp.Case:
        return exp.Case(ifs=[exp.If(this=self.readable, true=self._parsed_birth())])

    @property
    def gender(self) -> exp.Case:
        """`M` or `F`, as the contract's `gender` column has them."""
        digit = exp.Case(
            ifs=[
                exp.If(this=self.long_form, true=_digit(self.text, 17)),
                exp.If(this=self.short_form, true=_digit(self.text, 15)),
            ]
        )
        odd = exp.EQ(this=exp.Mod(this=digit, expression=lit(2)), expression=lit(1))
        sex = exp.Case(ifs=[exp.If(this=odd, true=lit("M"))], default=lit("F"))
        return exp.Case(ifs=[exp.If(this=self.readable, true=sex)])


def _sum(terms: list[exp.Expr]) -> exp.Expr:
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return total


def pivot_parse(text: exp.Expr, fmt: str, pivot: int) -> exp.Expr:
    """TIMESTAMP from `text` read with `fmt` (which has `%y`), the year put in [pivot, pivot + 99].

    The date is rebuilt from text rather than shifted by an interval, so a 29 February that does not
    exist in the pivoted year is NULL (a quarantined `bad_type`), not silently the 28th.
    """
    parsed = _fn("try_strptime", text, lit(fmt))
    two_digits = exp.Mod(this=exp.Year(this=parsed.copy()), expression=lit(100))
    shift = exp.Mod(this=exp.paren(two_digits - lit(pivot % 100) + lit(100)), expression=lit(100))
    year = exp.Cast(this=exp.paren(lit(pivot) + shift), to=exp.DataType.build("VARCHAR"))
    rest = _fn("strftime", parsed.copy(), lit("-%m-%d %H:%M:%S.%f"))
    return _fn("try_strptime", exp.DPipe(this=year, expression=rest), lit("%Y-%m-%d %H:%M:%S.%f"))
