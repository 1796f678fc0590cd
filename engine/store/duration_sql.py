"""The SQL of the stored summons durations (``summons_duration_tally``): histograms of the
time each department took to report in and to finish, per unit, area of the item (the
node below the org tree's root on its path: a street), local calendar month of the
summons and bucket (``medians.bucket_of``), kept by triggers on ``assignment`` and on
``item`` (an item's delete, and a move to another area); and the two indexes a median's
bucket is read on. Mixins of the backends (``engine.store.backends``): the counting SQL is
one text for SQLite and PostgreSQL; the seconds between two times, the month, the area of
a path and the trigger wrapping differ.

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
    item_move_triggers: Any
    drop_item_move_triggers: Any
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

    def path_area(self, path: str) -> str:
        """The area of a materialized node path (SQL; ``engine.org.org.area_of`` in Python): the
        id of the node below the root on it, 0 for the root itself. SQLite's CAST reads
        the longest integer prefix of the text after the second ``/``."""
        return f"CAST(substr({path}, instr(substr({path}, 2), '/') + 2) AS INTEGER)"

    def _duration_insert(self, arms: list[str]) -> str:
        return (
            "INSERT INTO summons_duration_tally (unit_id, area, kind, month, bucket, summonses)"
            f" SELECT * FROM ({' UNION ALL '.join(arms)}) AS d WHERE true"
            " ON CONFLICT (unit_id, area, kind, month, bucket) DO UPDATE SET"
            " summonses = summons_duration_tally.summonses + excluded.summonses"
        )

    def _duration_key(self, row: str, kind: int) -> str:
        """The month and bucket of the summons ``row`` for ``kind``, as SQL columns."""
        seconds = self.whole_seconds(self.duration_seconds(row, kind))
        return f"{self.local_month(f'{row}.summoned_at')}, {self.resolution_bucket(seconds)}"

    def duration_upsert(self, row: str, sign: int) -> str:
        """Add (``sign`` 1) or take away (-1) the durations of the summons ``row`` (nothing
        when its item is gone: the item's delete took them away)."""
        arms = [
            f"SELECT {row}.unit_id, {self.path_area('item.node_path')}, {kind},"
            f" {self._duration_key(row, kind)}, {sign} FROM item"
            f" WHERE item.id = {row}.item_id AND {self.duration_counted(row, kind)}"
            for kind in DURATIONS
        ]
        return self._duration_insert(arms)

    def duration_move(self, item: str, sign: int) -> str:
        """Add (1) or take away (-1) the durations of every summons of the item ``item``
        (NEW or OLD) in the area of its path."""
        arms = [
            f"SELECT a.unit_id, {self.path_area(f'{item}.node_path')}, {kind},"
            f" {self._duration_key('a', kind)}, {sign} * COUNT(*) FROM assignment a"
            f" WHERE a.item_id = {item}.id AND {self.duration_counted('a', kind)}"
            " GROUP BY 1, 2, 3, 4, 5"
            for kind in DURATIONS
        ]
        return self._duration_insert(arms)

    def duration_changed(self) -> str:
        """The condition on OLD and NEW under which an update moves a duration."""
        columns = ("unit_id", "item_id", "summoned_at", "reported_at", "done_at", "state")
        return " OR ".join(f"(OLD.{c}) {self.distinct} (NEW.{c})" for c in columns)

    def duration_area_changed(self) -> str:
        """The condition on an item's OLD and NEW under which its summonses change area."""
        return (
            f"({self.path_area('OLD.node_path')}) {self.distinct}"
            f" ({self.path_area('NEW.node_path')})"
        )

    def duration_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``summons_duration_tally``."""
        changed = self.duration_changed()
        return self.row_tally_triggers(
            "assignment_duration", "assignment", self.duration_upsert, changed
        ) + self.item_move_triggers(
            "item_duration", self.duration_move, self.duration_area_changed()
        )

    def drop_duration_triggers(self) -> list[str]:
        return self.drop_row_tally_triggers(
            "assignment_duration", "assignment"
        ) + self.drop_item_move_triggers("item_duration")

    def duration_indexes(self) -> list[str]:
        """The indexes a bucket's durations are read on: per kind, the unit, the seconds
        (the same expression the evaluation reads), the summons time and the item (whose
        path an area's read looks up), of the summonses that count."""
        return [
            f"CREATE INDEX IF NOT EXISTS assignment_{name}_seconds_item ON assignment"
            f" (unit_id, {self.duration_seconds('', kind)}, summoned_at, item_id)"
            f" WHERE {self.duration_counted('', kind)}"
            for kind, name in ((0, "report"), (1, "handle"))
        ]

    def rebuild_duration_tally(self) -> None:
        """Count every summons' durations again into ``summons_duration_tally`` (in the
        caller's transaction)."""
        self.lock_for_replace("summons_duration_tally")
        self.database.execute_sql("DELETE FROM summons_duration_tally")
        for kind in DURATIONS:
            self.database.execute_sql(
                "INSERT INTO summons_duration_tally"
                " (unit_id, area, kind, month, bucket, summonses)"
                f" SELECT a.unit_id, {self.path_area('item.node_path')}, {kind},"
                f" {self._duration_key('a', kind)}, COUNT(*) FROM assignment a"
                " JOIN item ON item.id = a.item_id"
                f" WHERE {self.duration_counted('a', kind)} GROUP BY 1, 2, 3, 4, 5"
            )


class PostgresDurationTallySQL(DurationTallySQL):
    def whole_seconds(self, seconds: str) -> str:
        return f"CAST(TRUNC({seconds}) AS BIGINT)"

    def local_month(self, value: str) -> str:
        return f"to_char({value} + interval '{self.LOCAL_MINUTES} minutes', 'YYYY-MM')"

    def path_area(self, path: str) -> str:
        return f"CAST(COALESCE(NULLIF(split_part({path}, '/', 3), ''), '0') AS INTEGER)"
