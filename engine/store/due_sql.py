"""The SQL of the stored late-summons counts (``summons_due_tally``, ``summons_pair_due``):
the triggers that keep them and the statements that rebuild them, as mixins of the
backends (``engine.store.backends``).

The board by department shows, per unit, its late summonses and the distinct items behind
them. Counted from the summonses, a district with 70,000 of them late read each and sorted
them twice (by unit, then each unit's items: 57 ms at the stress million). Kept here:

- ``summons_pair_due``: per pair of a unit and an item, the earliest deadline
  (``next_due_at``) of the unit's open summonses on it, and the item's area; a pair is
  there while it has one. An item is behind a unit's late count exactly when its pair's
  earliest deadline has passed.
- ``summons_due_tally``: per unit and area of the items (the node below the root, a
  street), the open summonses with a deadline and the pairs, by the UTC day (``span`` 10)
  and by the UTC hour (``span`` 13) of that deadline (a pair: of its earliest). A reader
  of the whole tree or of whole areas sums the days before today and today's hours
  before this one, and counts this hour's from the rows.

Each summons' change refreshes its pair (the old and the new one when it moved): the
pair's counts taken away, its row made again from its summonses, its counts added. The
row holds the pair's deadline as it was, so the refresh is right whatever the order in
which a statement's rows fire it (SQLite as each row changes, PostgreSQL at the
statement's end). An item moved to another area moves its counts; an item deleted takes
them away first (its summonses, deleted after it, find no item). Only the trigger wrapping
differs between the backends, and the bucket's text.
"""

from __future__ import annotations

from typing import Any

from engine.store.trigger_sql import plpgsql_function, sqlite_body

COUNTS = ("summonses", "items")
KEYS = ("unit_id", "area", "span", "bucket")


class DueCountsSQL:
    """The SQLite way; :class:`PostgresDueCountsSQL` overrides what differs."""

    # Given by the backend class this is mixed into (DAY, HOUR: a bucket's width, the
    # deadline's UTC date or its date and hour).
    DAY: int
    HOUR: int
    database: Any
    distinct: str
    lock_for_replace: Any
    on_conflict_add: Any
    path_area: Any

    def due_bucket(self, value: str, span: str) -> str:
        """The SQL of the timestamp ``value``'s first ``span`` characters as text
        (``YYYY-MM-DD HH``)."""
        return f"substr({value}, 1, {span})"

    def _due_add(self, rows: str) -> str:
        """Add ``rows`` (SQL of a select of unit_id, area, due, summonses, items) to the
        unit's and area's day and hour buckets of ``due`` (nothing for a null ``due``)."""
        bucket = self.due_bucket("src.due", "spans.span")
        return (
            f"INSERT INTO summons_due_tally ({', '.join((*KEYS, *COUNTS))})"
            f" SELECT src.unit_id, src.area, spans.span, {bucket}, SUM(src.summonses),"
            f" SUM(src.items) FROM ({rows}) AS src,"
            f" (SELECT {self.DAY} AS span UNION ALL SELECT {self.HOUR}) AS spans"
            " WHERE src.due IS NOT NULL"
            # grouped: PostgreSQL updates a row once per statement (an item's summonses)
            f" GROUP BY src.unit_id, src.area, spans.span, {bucket}"
            + self.on_conflict_add("summons_due_tally", KEYS, COUNTS)
        )

    def _summons_due(self, row: str, sign: int) -> str:
        """Add (1) or take away (-1) the summons ``row`` (a row reference) if it is open,
        at its item's area (nothing when the item is gone: its delete took it away)."""
        area = self.path_area("item.node_path")
        return self._due_add(
            f"SELECT {row}.unit_id AS unit_id, {area} AS area, {row}.next_due_at AS due,"
            f" {sign} AS summonses, 0 AS items FROM item"
            f" WHERE item.id = {row}.item_id AND {row}.open"
        )

    def _pair_refresh(self, row: str) -> list[str]:
        """The statements refreshing the pair of the summons ``row``: its counts taken
        away, its row made again from its open summonses with a deadline, counted again."""
        pair = f"unit_id = {row}.unit_id AND item_id = {row}.item_id"
        return [
            self._due_add(self._stored_pairs(-1) + f" WHERE {pair}"),
            f"DELETE FROM summons_pair_due WHERE {pair}",
            self._pairs_insert(
                f"assignment.unit_id = {row}.unit_id AND assignment.item_id = {row}.item_id"
            ),
            self._due_add(self._stored_pairs(1) + f" WHERE {pair}"),
        ]

    @staticmethod
    def _stored_pairs(sign: int) -> str:
        """A select of the stored pairs' counts (``_due_add``'s rows), times ``sign``."""
        return f"SELECT unit_id, area, due, 0 AS summonses, {sign} AS items FROM summons_pair_due"

    def _pairs_insert(self, cond: str) -> str:
        """Make the pairs of the summonses ``cond`` selects again from their open ones
        with a deadline, at their items' area (none for an item gone)."""
        area = self.path_area("item.node_path")
        return (
            "INSERT INTO summons_pair_due (unit_id, item_id, area, due)"
            f" SELECT assignment.unit_id, assignment.item_id, MAX({area}),"
            " MIN(assignment.next_due_at) FROM assignment JOIN item ON item.id = assignment.item_id"
            f" WHERE {cond} AND assignment.open AND assignment.next_due_at IS NOT NULL"
            " GROUP BY assignment.unit_id, assignment.item_id"
        )

    def _item_counts(self, item: str, sign: int) -> list[str]:
        """Add (1) or take away (-1) the counts of every open summons and pair of the item
        ``item`` (a row reference) at its area."""
        area = self.path_area(f"{item}.node_path")
        return [
            self._due_add(
                f"SELECT unit_id, {area} AS area, next_due_at AS due, {sign} AS summonses,"
                f" 0 AS items FROM assignment WHERE item_id = {item}.id AND open"
            ),
            self._due_add(
                f"SELECT unit_id, {area} AS area, due, 0 AS summonses, {sign} AS items"
                f" FROM summons_pair_due WHERE item_id = {item}.id"
            ),
        ]

    def item_due_steps(self) -> dict[str, list[str]]:
        """The item's triggers' statements: its counts taken away and its pairs with them
        before it is deleted; moved with it to another area."""
        return {
            "gone": [
                *self._item_counts("OLD", -1),
                "DELETE FROM summons_pair_due WHERE item_id = OLD.id",
            ],
            "moved": [
                *self._item_counts("OLD", -1),
                (
                    f"UPDATE summons_pair_due SET area = {self.path_area('NEW.node_path')}"
                    " WHERE item_id = NEW.id"
                ),
                *self._item_counts("NEW", 1),
            ],
        }

    def area_moved(self) -> str:
        """The condition on an item's OLD and NEW rows: its area changed."""
        old, new = self.path_area("OLD.node_path"), self.path_area("NEW.node_path")
        return f"({old}) {self.distinct} ({new})"

    DUE_CHANGED = (
        "(OLD.open {d} NEW.open) OR (OLD.next_due_at {d} NEW.next_due_at)"
        " OR (OLD.unit_id {d} NEW.unit_id) OR (OLD.item_id {d} NEW.item_id)"
    )
    PAIR_MOVED = "(OLD.unit_id {d} NEW.unit_id) OR (OLD.item_id {d} NEW.item_id)"

    def due_steps(self) -> dict[str, list[str]]:
        """The statements of each trigger keeping the late-summons counts."""
        return {
            "insert": [self._summons_due("NEW", 1), *self._pair_refresh("NEW")],
            "delete": [self._summons_due("OLD", -1), *self._pair_refresh("OLD")],
            # the same pair: refreshed once; moved to another unit or item: both
            "update": [
                self._summons_due("OLD", -1),
                self._summons_due("NEW", 1),
                *self._pair_refresh("NEW"),
            ],
            "moved": self._pair_refresh("OLD"),
        }

    def due_tally_triggers(self) -> list[str]:
        """Statements creating the triggers that keep the late-summons counts
        (idempotent)."""
        steps = {k: sqlite_body(v) for k, v in self.due_steps().items()}
        changed = self.DUE_CHANGED.format(d=self.distinct)
        moved = self.PAIR_MOVED.format(d=self.distinct)
        item = {k: sqlite_body(v) for k, v in self.item_due_steps().items()}
        on = "CREATE TRIGGER IF NOT EXISTS"
        return [
            f"{on} item_due_delete BEFORE DELETE ON item {item['gone']}",
            f"{on} item_due_move AFTER UPDATE ON item WHEN {self.area_moved()} {item['moved']}",
            f"{on} assignment_due_insert AFTER INSERT ON assignment {steps['insert']}",
            f"{on} assignment_due_delete AFTER DELETE ON assignment {steps['delete']}",
            f"{on} assignment_due_update AFTER UPDATE ON assignment WHEN {changed} {steps['update']}",
            f"{on} assignment_due_move AFTER UPDATE ON assignment WHEN {moved} {steps['moved']}",
        ]

    DUE_TRIGGERS = (
        ("assignment_due_insert", "assignment"),
        ("assignment_due_delete", "assignment"),
        ("assignment_due_update", "assignment"),
        ("assignment_due_move", "assignment"),
        ("item_due_delete", "item"),
        ("item_due_move", "item"),
    )

    def drop_due_tally_triggers(self) -> list[str]:
        """Statements removing what :meth:`due_tally_triggers` made."""
        return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in self.DUE_TRIGGERS]

    def rebuild_due_tally(self) -> None:
        """Gather every pair's earliest deadline and count every open summons with a
        deadline again (caller's transaction)."""
        self.lock_for_replace("summons_pair_due")
        self.lock_for_replace("summons_due_tally")
        self.database.execute_sql("DELETE FROM summons_pair_due")
        self.database.execute_sql("DELETE FROM summons_due_tally")
        self.database.execute_sql(self._pairs_insert("1 = 1"))
        area = self.path_area("item.node_path")
        self.database.execute_sql(
            self._due_add(
                f"SELECT assignment.unit_id, {area} AS area, assignment.next_due_at AS due,"
                " 1 AS summonses, 0 AS items"
                " FROM assignment JOIN item ON item.id = assignment.item_id"
                " WHERE assignment.open AND assignment.next_due_at IS NOT NULL"
                f" UNION ALL {self._stored_pairs(1)}"
            )
        )


class PostgresDueCountsSQL(DueCountsSQL):
    """PL/pgSQL trigger functions; ``to_char`` for the buckets."""

    def due_bucket(self, value: str, span: str) -> str:
        return f"left(to_char({value}, 'YYYY-MM-DD HH24'), {span})"

    def due_tally_triggers(self) -> list[str]:
        steps = self.due_steps()
        changed = self.DUE_CHANGED.format(d=self.distinct)
        moved = self.PAIR_MOVED.format(d=self.distinct)
        item = self.item_due_steps()
        each = "FOR EACH ROW EXECUTE FUNCTION"
        on = "CREATE OR REPLACE TRIGGER"
        return [
            *(plpgsql_function(f"assignment_due_{k}", v) for k, v in steps.items()),
            # BEFORE DELETE: PostgreSQL's cascade runs at the statement's end, the item gone
            plpgsql_function("item_due_gone", item["gone"], returns="OLD"),
            plpgsql_function("item_due_moved", item["moved"]),
            f"{on} item_due_delete BEFORE DELETE ON item {each} item_due_gone()",
            (
                f"{on} item_due_move AFTER UPDATE ON item"
                f" FOR EACH ROW WHEN ({self.area_moved()}) EXECUTE FUNCTION item_due_moved()"
            ),
            f"{on} assignment_due_insert AFTER INSERT ON assignment {each} assignment_due_insert()",
            f"{on} assignment_due_delete AFTER DELETE ON assignment {each} assignment_due_delete()",
            (
                f"{on} assignment_due_update AFTER UPDATE ON assignment"
                f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION assignment_due_update()"
            ),
            (
                f"{on} assignment_due_move AFTER UPDATE ON assignment"
                f" FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION assignment_due_moved()"
            ),
        ]

    def drop_due_tally_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in self.DUE_TRIGGERS]
