"""The playbook's closed vocabularies, apart from the models so the CLI can name them without pydantic."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    FAILOVER = "failover"
    DRILL = "drill"
    FAILBACK = "failback"


class OnFailure(StrEnum):
    ABORT = "abort"
    CONTINUE = "continue"
    PAUSE = "pause"


class Audience(StrEnum):
    PRODUCTION = "production"
    DRILL = "drill"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class RecordType(StrEnum):
    A = "A"
    AAAA = "AAAA"
    CNAME = "CNAME"
