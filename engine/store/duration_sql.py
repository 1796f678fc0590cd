"""The SQL of the stored summons durations (``summons_duration_tally``): histograms of the
time each department took to report in and to finish, per unit, local calendar month of
the summons and bucket (``medians.bucket_of``), kept by triggers on ``assignment``; and the
two indexes a median's bucket is read on. Mixins of the backends
(``engine.store.backends``): the counting SQL is one text for SQLite and PostgreSQL; the
seconds between two times, the month and the trigger wrapping differ.

A summons counts for "report" once it has reported in (``reported_at``), for "handle" once
it is done (``state = 'done'`` with ``done_at``), in the month it was summoned; its
seconds are those ``engine.supervision.evaluation`` reads, and its bucket that of the
seconds truncated to an integer (what Python's ``int`` does: the same on both sides).
"""

from __future__ import annotations

from typing import Any

# kind → (the condition a summons counts under, its start column, its end column)
DURATIONS = {
    0: ("{r}reported_at IS NOT NULL", "summoned_at", "reported_at"),
    1: ("{r}state = 'done' AND {r}done_at IS NOT NULL", "summoned_at", "done_at"),
}


class DurationTallySQL:
    """The SQLite way; :class:`PostgresDurationTallySQL` overrides what differs."""

    # Given by the backend class these are mixed into.
    database: Any
    distinct: str
    lock_for_replace: Any
    resolution_bucket: Any
    row_tally_triggers: Any
    drop_row_tally_triggers: Any
    seconds_between_text: Any
    LOCAL_MINUTES: int

    def duration_seconds(self, row: str, kind: int) -> str:
        """The seconds a summons (``row``, an alias or NEW/OLD; ``""`` for the bare
        columns an index names) took for ``kind``, as the evaluation reads them."""
        _, start, end = DURATIONS[kind]
        at = f"{row}." if row else ""
        return self.seconds_between_text(f"{at}{start}", f"{at}{end}")

    def whole_seconds(self, seconds: str) -> str:
        """``seconds`` truncated toward zero to an integer (Python's ``int``)."""
        return f"CAST({seconds} AS INTEGER)"

    def local_month(self, value: str) -> str:
        """The local (UTC+8) calendar month of a stored time, as ``YYYY-MM``."""
        return f"strftime('%Y-%m', {value}, '+{self.LOCAL_MINUTES} minutes')"

    def duration_counted(self, row: str, kind: int) -> str:
        """Whether the summons ``row`` (``""``: the bare columns) counts for ``kind``."""
        return DURATIONS[kind][0].format(r=f"{row}." if row else "")

    def duration_upsert(self, row: str, sign: int) -> str:
        """Add (``sign`` 1) or take away (-1) the durations of the summons ``row``."""
        arms = []
        for kind in DURATIONS:
            seconds = self.whole_seconds(self.duration_seconds(row, kind))
            arms.append(
                f"SELECT {row}.unit_id, {kind}, {self.local_month(f'{row}.summoned_at')},"
                f" {self.resolution_bucket(seconds)}, {sign}"
                f" WHERE {self.duration_counted(row, kind)}"
            )
        return (
            "INSERT INTO summons_duration_tally (unit_id, kind, month, bucket, summonses)"
            f" SELECT * FROM ({' UNION ALL '.join(arms)}) AS d WHERE true"
            " ON CONFLICT (unit_id, kind, month, bucket) DO UPDATE SET"
            " summonses = summons_duration_tally.summonses + excluded.summonses"
        )

    def duration_changed(self) -> str:
        """The condition on OLD and NEW under which an update moves a duration."""
        columns = ("unit_id", "summoned_at", "reported_at", "done_at", "state")
        return " OR ".join(f"(OLD.{c}) {self.distinct} (NEW.{c})" for c in columns)

    def duration_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``summons_duration_tally``."""
        changed = self.duration_changed()
        return self.row_tally_triggers(
            "assignment_duration", "assignment", self.duration_upsert, changed
        )

    def drop_duration_triggers(self) -> list[str]:
        return self.drop_row_tally_triggers("assignment_duration", "assignment")

    def duration_indexes(self) -> list[str]:
        """The indexes a bucket's durations are read on: per kind, the unit, the seconds
        (the same expression the evaluation reads) and the summons time, of the summonses
        that count."""
        return [
            f"CREATE INDEX IF NOT EXISTS assignment_{name}_seconds ON assignment"
            f" (unit_id, {self.duration_seconds('', kind)}, summoned_at)"
            f" WHERE {self.duration_counted('', kind)}"
            for kind, name in ((0, "report"), (1, "handle"))
        ]

    def rebuild_duration_tally(self) -> None:
        """Count every summons' durations again into ``summons_duration_tally`` (in the
        caller's transaction)."""
        self.lock_for_replace("summons_duration_tally")
        self.database.execute_sql("DELETE FROM summons_duration_tally")
        for kind in DURATIONS:
            seconds = self.whole_seconds(self.duration_seconds("a", kind))
            self.database.execute_sql(
                "INSERT INTO summons_duration_tally (unit_id, kind, month, bucket, summonses)"
                f" SELECT a.unit_id, {kind}, {self.local_month('a.summoned_at')},"
                f" {self.resolution_bucket(seconds)}, COUNT(*) FROM assignment a"
                f" WHERE {self.duration_counted('a', kind)} GROUP BY 1, 2, 3, 4"
            )


class PostgresDurationTallySQL(DurationTallySQL):
    def whole_seconds(self, seconds: str) -> str:
        return f"CAST(TRUNC({seconds}) AS BIGINT)"

    def local_month(self, value: str) -> str:
        return f"to_char({value} + interval '{self.LOCAL_MINUTES} minutes', 'YYYY-MM')"
