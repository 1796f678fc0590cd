"""The SQL of the stored summons counts (``summons_tally``, ``summons_day_tally``): the
triggers that keep them and the statements that rebuild them, as mixins of the backends
(``engine.store.backends``). The counting SQL is one text for SQLite and PostgreSQL; only
a date expression and the trigger wrapping differ.
"""

from __future__ import annotations

from typing import Any


class SummonsCountsSQL:
    """The SQLite way; :class:`PostgresSummonsCountsSQL` overrides what differs."""

    # Given by the backend class these are mixed into.
    database: Any
    distinct: str
    lock_for_replace: Any

    # Stored counts of open summons (models.SummonsTally), keyed by the summons' unit and
    # its item's node: the same SQL on every backend; only the trigger wrapping differs.
    def summons_upsert(self, row: str, sign: int) -> str:
        """Add (``sign`` 1) or take away (-1) the summons ``row`` if it is open. Its item's
        node is read from the item: when the item is gone (a cascade from its delete,
        which took its summons away itself) nothing is counted."""
        return (
            "INSERT INTO summons_tally (unit_id, node_id, open)"
            f" SELECT {row}.unit_id, item.node_id, {sign} FROM item"
            f" WHERE item.id = {row}.item_id AND {row}.open"
            " ON CONFLICT (unit_id, node_id) DO UPDATE SET open = summons_tally.open + excluded.open"
        )

    def summons_move(self, item: str, node: str, sign: int) -> str:
        """Add (1) or take away (-1) every open summons of the item ``item`` (a row
        reference) at the node ``node`` (an item moved to another node, or deleted)."""
        return (
            "INSERT INTO summons_tally (unit_id, node_id, open)"
            f" SELECT unit_id, {node}, {sign} * COUNT(*) FROM assignment"
            f" WHERE item_id = {item}.id AND assignment.open GROUP BY unit_id"
            " ON CONFLICT (unit_id, node_id) DO UPDATE SET open = summons_tally.open + excluded.open"
        )

    SUMMONS_CHANGED = (
        "(OLD.open {d} NEW.open) OR (OLD.unit_id {d} NEW.unit_id) OR (OLD.item_id {d} NEW.item_id)"
    )

    def summons_tally_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``summons_tally`` (idempotent)."""
        changed = self.SUMMONS_CHANGED.format(d=self.distinct)
        # An item's delete takes its summons away before SQLite's cascade deletes them
        # (by then the item is gone, and the summons' own trigger counts nothing).
        insert = f"BEGIN {self.summons_upsert('NEW', 1)}; END"
        delete = f"BEGIN {self.summons_upsert('OLD', -1)}; END"
        update = f"BEGIN {self.summons_upsert('OLD', -1)}; {self.summons_upsert('NEW', 1)}; END"
        gone = f"BEGIN {self.summons_move('OLD', 'OLD.node_id', -1)}; END"
        moved = (
            f"BEGIN {self.summons_move('OLD', 'OLD.node_id', -1)};"
            f" {self.summons_move('NEW', 'NEW.node_id', 1)}; END"
        )
        on = "CREATE TRIGGER IF NOT EXISTS"
        return [
            f"{on} assignment_tally_insert AFTER INSERT ON assignment {insert}",
            f"{on} assignment_tally_delete AFTER DELETE ON assignment {delete}",
            f"{on} assignment_tally_update AFTER UPDATE ON assignment WHEN {changed} {update}",
            f"{on} item_summons_delete BEFORE DELETE ON item {gone}",
            (
                f"{on} item_summons_move AFTER UPDATE ON item"
                f" WHEN OLD.node_id {self.distinct} NEW.node_id {moved}"
            ),
        ]

    SUMMONS_TRIGGERS = (
        ("assignment_tally_insert", "assignment"),
        ("assignment_tally_delete", "assignment"),
        ("assignment_tally_update", "assignment"),
        ("item_summons_delete", "item"),
        ("item_summons_move", "item"),
    )

    def drop_summons_tally_triggers(self) -> list[str]:
        """Statements removing what :meth:`summons_tally_triggers` made."""
        return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in self.SUMMONS_TRIGGERS]

    def rebuild_summons_tally(self) -> None:
        """Count every open summons again into ``summons_tally`` (caller's transaction)."""
        self.lock_for_replace("summons_tally")
        self.database.execute_sql("DELETE FROM summons_tally")
        self.database.execute_sql(
            "INSERT INTO summons_tally (unit_id, node_id, open)"
            " SELECT assignment.unit_id, item.node_id, COUNT(*) FROM assignment"
            " JOIN item ON item.id = assignment.item_id WHERE assignment.open"
            " GROUP BY assignment.unit_id, item.node_id"
        )

    # Stored counts of summons per summoned day (models.SummonsDayTally), for the
    # evaluation: what a summons counts as, by a row reference; only the date differs.
    def utc_date(self, value: str) -> str:
        """The SQL of a timestamp's date as YYYY-MM-DD text."""
        return f"substr({value}, 1, 10)"

    @staticmethod
    def pending(row: str, which: str) -> str:
        """The SQL condition: ``row`` is inside its report (``which`` "report") or handling
        deadline and still undecided, so whether it counts as decided depends on the clock
        (``engine.supervision.evaluation.conditions``)."""
        if which == "report":
            return (
                f"{row}.reported_at IS NULL AND {row}.done_at IS NULL"
                f" AND {row}.report_due_at IS NOT NULL"
            )
        return (
            f"{row}.state <> 'done' AND {row}.done_at IS NULL AND {row}.handle_due_at IS NOT NULL"
        )

    def day_values(self, row: str) -> list[str]:
        """The SQL of ``row``'s day, report_due and handle_due keys and its counts
        (``DAY_COUNTS`` order)."""
        r = row
        pending_report = self.pending(r, "report")
        pending_handle = self.pending(r, "handle")

        def flag(cond: str) -> str:
            return f"CASE WHEN {cond} THEN 1 ELSE 0 END"

        return [
            self.utc_date(f"{r}.summoned_at"),
            f"CASE WHEN {pending_report} THEN {self.utc_date(f'{r}.report_due_at')} ELSE '' END",
            f"CASE WHEN {pending_handle} THEN {self.utc_date(f'{r}.handle_due_at')} ELSE '' END",
            "1",
            flag(
                f"{r}.reported_at IS NOT NULL OR ({r}.report_due_at IS NOT NULL"
                f" AND {r}.done_at IS NOT NULL AND {r}.report_due_at < {r}.done_at)"
            ),
            flag(
                f"{r}.reported_at IS NOT NULL AND ({r}.report_due_at IS NULL"
                f" OR {r}.reported_at <= {r}.report_due_at)"
            ),
            flag(
                f"{r}.state = 'done' OR ({r}.handle_due_at IS NOT NULL"
                f" AND {r}.done_at IS NOT NULL AND {r}.handle_due_at < {r}.done_at)"
            ),
            flag(
                f"{r}.state = 'done' AND ({r}.handle_due_at IS NULL"
                f" OR {r}.done_at <= {r}.handle_due_at)"
            ),
            f"{r}.urge_count",
        ]

    DAY_KEYS = ("unit_id", "node_id", "day", "report_due", "handle_due")
    DAY_COUNTS = (
        "summoned",
        "report_fixed",
        "report_on_time",
        "handle_fixed",
        "handle_on_time",
        "urged",
    )

    def day_upsert(self, row: str, sign: int) -> str:
        """Add (1) or take away (-1) the summons ``row`` from its day's counts (nothing
        when its item is gone: the item's delete took it away)."""
        values = self.day_values(row)
        counts = [f"{sign} * ({v})" for v in values[3:]]
        columns = ", ".join((*self.DAY_KEYS, *self.DAY_COUNTS))
        return (
            f"INSERT INTO summons_day_tally ({columns})"
            f" SELECT {row}.unit_id, item.node_id, {', '.join(values[:3] + counts)} FROM item"
            f" WHERE item.id = {row}.item_id"
            f" ON CONFLICT ({', '.join(self.DAY_KEYS)}) DO UPDATE SET "
            + ", ".join(f"{c} = summons_day_tally.{c} + excluded.{c}" for c in self.DAY_COUNTS)
        )

    def day_move(self, item: str, node: str, sign: int) -> str:
        """Add (1) or take away (-1) every summons of the item ``item`` at ``node``."""
        values = self.day_values("assignment")
        columns = ", ".join((*self.DAY_KEYS, *self.DAY_COUNTS))
        sums = [f"{sign} * SUM({v})" for v in values[3:]]
        return (
            f"INSERT INTO summons_day_tally ({columns})"
            f" SELECT assignment.unit_id, {node}, {', '.join(values[:3] + sums)} FROM assignment"
            f" WHERE assignment.item_id = {item}.id"
            f" GROUP BY assignment.unit_id, {', '.join(values[:3])}"
            f" ON CONFLICT ({', '.join(self.DAY_KEYS)}) DO UPDATE SET "
            + ", ".join(f"{c} = summons_day_tally.{c} + excluded.{c}" for c in self.DAY_COUNTS)
        )

    DAY_COLUMNS = (
        "unit_id",
        "item_id",
        "summoned_at",
        "reported_at",
        "report_due_at",
        "done_at",
        "handle_due_at",
        "state",
        "urge_count",
    )

    def day_changed(self) -> str:
        return " OR ".join(f"(OLD.{c} {self.distinct} NEW.{c})" for c in self.DAY_COLUMNS)

    def day_tally_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``summons_day_tally`` (idempotent)."""
        on = "CREATE TRIGGER IF NOT EXISTS"
        insert = f"BEGIN {self.day_upsert('NEW', 1)}; END"
        delete = f"BEGIN {self.day_upsert('OLD', -1)}; END"
        update = f"BEGIN {self.day_upsert('OLD', -1)}; {self.day_upsert('NEW', 1)}; END"
        gone = f"BEGIN {self.day_move('OLD', 'OLD.node_id', -1)}; END"
        moved = (
            f"BEGIN {self.day_move('OLD', 'OLD.node_id', -1)};"
            f" {self.day_move('NEW', 'NEW.node_id', 1)}; END"
        )
        return [
            f"{on} assignment_day_insert AFTER INSERT ON assignment {insert}",
            f"{on} assignment_day_delete AFTER DELETE ON assignment {delete}",
            (
                f"{on} assignment_day_update AFTER UPDATE ON assignment"
                f" WHEN {self.day_changed()} {update}"
            ),
            f"{on} item_day_delete BEFORE DELETE ON item {gone}",
            (
                f"{on} item_day_move AFTER UPDATE ON item"
                f" WHEN OLD.node_id {self.distinct} NEW.node_id {moved}"
            ),
        ]

    DAY_TRIGGERS = (
        ("assignment_day_insert", "assignment"),
        ("assignment_day_delete", "assignment"),
        ("assignment_day_update", "assignment"),
        ("item_day_delete", "item"),
        ("item_day_move", "item"),
    )

    def drop_day_tally_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in self.DAY_TRIGGERS]

    def rebuild_day_tally(self) -> None:
        """Count every summons again into ``summons_day_tally`` (caller's transaction)."""
        self.lock_for_replace("summons_day_tally")
        self.database.execute_sql("DELETE FROM summons_day_tally")
        values = self.day_values("assignment")
        columns = ", ".join((*self.DAY_KEYS, *self.DAY_COUNTS))
        self.database.execute_sql(
            f"INSERT INTO summons_day_tally ({columns})"
            f" SELECT assignment.unit_id, item.node_id, {', '.join(values[:3])},"
            f" {', '.join(f'SUM({v})' for v in values[3:])} FROM assignment"
            " JOIN item ON item.id = assignment.item_id"
            f" GROUP BY assignment.unit_id, item.node_id, {', '.join(values[:3])}"
        )


class PostgresSummonsCountsSQL(SummonsCountsSQL):
    """PL/pgSQL trigger functions; ``to_char`` for dates."""

    def summons_tally_triggers(self) -> list[str]:
        changed = self.SUMMONS_CHANGED.format(d=self.distinct)
        assignment = (
            "CREATE OR REPLACE FUNCTION assignment_tally() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            f" IF TG_OP <> 'INSERT' THEN {self.summons_upsert('OLD', -1)}; END IF;"
            f" IF TG_OP <> 'DELETE' THEN {self.summons_upsert('NEW', 1)}; END IF;"
            " RETURN NULL; END $$"
        )
        # BEFORE DELETE: PostgreSQL's cascade runs at the end of the statement, when the
        # item is gone; this takes the summons away while they are still there.
        item = (
            "CREATE OR REPLACE FUNCTION item_summons() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            f" {self.summons_move('OLD', 'OLD.node_id', -1)};"
            f" IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;"
            f" {self.summons_move('NEW', 'NEW.node_id', 1)};"
            " RETURN NULL; END $$"
        )
        each = "FOR EACH ROW EXECUTE FUNCTION"
        return [
            assignment,
            item,
            f"CREATE OR REPLACE TRIGGER assignment_tally_insert AFTER INSERT ON assignment {each} assignment_tally()",
            f"CREATE OR REPLACE TRIGGER assignment_tally_delete AFTER DELETE ON assignment {each} assignment_tally()",
            (
                "CREATE OR REPLACE TRIGGER assignment_tally_update AFTER UPDATE ON assignment"
                f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION assignment_tally()"
            ),
            f"CREATE OR REPLACE TRIGGER item_summons_delete BEFORE DELETE ON item {each} item_summons()",
            (
                "CREATE OR REPLACE TRIGGER item_summons_move AFTER UPDATE ON item"
                " FOR EACH ROW WHEN (OLD.node_id IS DISTINCT FROM NEW.node_id)"
                " EXECUTE FUNCTION item_summons()"
            ),
        ]

    def drop_summons_tally_triggers(self) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in self.SUMMONS_TRIGGERS
        ]

    def utc_date(self, value: str) -> str:
        return f"to_char({value}, 'YYYY-MM-DD')"

    def day_tally_triggers(self) -> list[str]:
        assignment = (
            "CREATE OR REPLACE FUNCTION assignment_day() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            f" IF TG_OP <> 'INSERT' THEN {self.day_upsert('OLD', -1)}; END IF;"
            f" IF TG_OP <> 'DELETE' THEN {self.day_upsert('NEW', 1)}; END IF;"
            " RETURN NULL; END $$"
        )
        item = (
            "CREATE OR REPLACE FUNCTION item_day() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            f" {self.day_move('OLD', 'OLD.node_id', -1)};"
            " IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;"
            f" {self.day_move('NEW', 'NEW.node_id', 1)};"
            " RETURN NULL; END $$"
        )
        each = "FOR EACH ROW EXECUTE FUNCTION"
        on = "CREATE OR REPLACE TRIGGER"
        return [
            assignment,
            item,
            f"{on} assignment_day_insert AFTER INSERT ON assignment {each} assignment_day()",
            f"{on} assignment_day_delete AFTER DELETE ON assignment {each} assignment_day()",
            (
                f"{on} assignment_day_update AFTER UPDATE ON assignment"
                f" FOR EACH ROW WHEN ({self.day_changed()}) EXECUTE FUNCTION assignment_day()"
            ),
            f"{on} item_day_delete BEFORE DELETE ON item {each} item_day()",
            (
                f"{on} item_day_move AFTER UPDATE ON item"
                " FOR EACH ROW WHEN (OLD.node_id IS DISTINCT FROM NEW.node_id)"
                " EXECUTE FUNCTION item_day()"
            ),
        ]

    def drop_day_tally_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in self.DAY_TRIGGERS]
