"""A site's laboratory and the normal ranges it reports, one row per analyte, sex, age band
and period of validity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecrf.db import Base, utcnow
from ecrf.records.models import Site


class RangeRules:
    """What a normal range says of a sample, for a range read as a model
    (``ReferenceRange``) or as a plain row (``StoredRange``): one rule, in one place."""

    @property
    def low(self) -> Decimal | None:
        return Decimal(self.low_text) if self.low_text is not None else None

    @property
    def high(self) -> Decimal | None:
        return Decimal(self.high_text) if self.high_text is not None else None

    def applies(self, on: date, sex: str | None, age: int | None) -> bool:
        """Whether this range is the one for a sample of ``on`` from a subject of ``sex`` and
        ``age`` (a range for one sex, or an age band, needs the subject's to apply)."""
        if on < self.valid_from or (self.valid_to is not None and on > self.valid_to):
            return False
        if self.sex is not None and sex != self.sex:
            return False
        if self.age_low is not None and (age is None or age < self.age_low):
            return False
        return not (self.age_high is not None and (age is None or age >= self.age_high))


class Laboratory(Base):
    __tablename__ = "laboratory"
    __table_args__ = (sa.UniqueConstraint("site_id", "name", name="uq_laboratory_site_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    #: As the lab forms name it (the value of their LBNAM item, SDTM LB.LBNAM).
    name: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    site: Mapped[Site] = relationship()
    ranges: Mapped[list[ReferenceRange]] = relationship(
        back_populates="laboratory", order_by="ReferenceRange.id"
    )


class ReferenceRange(RangeRules, Base):
    """What the laboratory reports for one analyte: its unit and normal limits, for one sex
    (or both) and one age band, over one period.

    Limits are kept as the exact decimal text the laboratory prints (no float, no dialect's
    numeric leniency)."""

    __tablename__ = "laboratory_range"

    id: Mapped[int] = mapped_column(primary_key=True)
    laboratory_id: Mapped[int] = mapped_column(sa.ForeignKey("laboratory.id"), index=True)
    #: The SDTM LBTESTCD of the analyte (NEUT, HGB, CREAT, PT…).
    testcd: Mapped[str] = mapped_column(sa.String(8))
    #: UCUM symbol of the unit the laboratory reports the analyte in (10*9/L, g/L…).
    unit: Mapped[str] = mapped_column(sa.String(20))
    #: "M", "F", or None for both sexes.
    sex: Mapped[str | None] = mapped_column(sa.String(1))
    #: Age band in whole years: from ``age_low`` (inclusive) to ``age_high`` (exclusive).
    age_low: Mapped[int | None]
    age_high: Mapped[int | None]
    low_text: Mapped[str | None] = mapped_column(sa.String(20))
    high_text: Mapped[str | None] = mapped_column(sa.String(20))
    valid_from: Mapped[date]
    #: Last day of validity (inclusive); None: still in force.
    valid_to: Mapped[date | None]
    laboratory: Mapped[Laboratory] = relationship(back_populates="ranges")


@dataclass(frozen=True)
class StoredRange(RangeRules):
    """A normal range as read for a save's look-ups, without the ORM."""

    testcd: str
    unit: str
    sex: str | None
    age_low: int | None
    age_high: int | None
    low_text: str | None
    high_text: str | None
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class StoredLaboratory:
    """A laboratory as read for a save's look-ups: its name and its ranges, in order."""

    name: str
    ranges: tuple[StoredRange, ...]
