"""The SQL of the stored summons counts (``summons_tally``, ``summons_day_tally``): the
triggers that keep them and the statements that rebuild them, as mixins of the backends
(``engine.store.backends``). The counting SQL is one text for SQLite and PostgreSQL; only
a date expression and the trigger wrapping differ.
"""

from __future__ import annotations

from typing import Any

from engine.store.trigger_sql import plpgsql_function


class SummonsCountsSQL:
    """The SQLite way; :class:`PostgresSummonsCountsSQL` overrides what differs."""

    # Given by the backend class these are mixed into.
    database: Any
    distinct: str
    lock_for_replace: Any
    item_move_triggers: Any
    row_tally_triggers: Any
    drop_row_tally_triggers: Any

    @staticmethod
    def on_conflict_add(table: str, keys: tuple[str, ...], counts: tuple[str, ...]) -> str:
        """An upsert's tail: a row whose ``keys`` exist adds its ``counts`` to it."""
        added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counts)
        return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {added}"

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
            + self.on_conflict_add("summons_day_tally", self.DAY_KEYS, self.DAY_COUNTS)
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
            + self.on_conflict_add("summons_day_tally", self.DAY_KEYS, self.DAY_COUNTS)
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
        return [
            f"{on} assignment_day_insert AFTER INSERT ON assignment {insert}",
            f"{on} assignment_day_delete AFTER DELETE ON assignment {delete}",
            (
                f"{on} assignment_day_update AFTER UPDATE ON assignment"
                f" WHEN {self.day_changed()} {update}"
            ),
            *self.day_item_triggers(),
        ]

    def day_item_triggers(self) -> list[str]:
        """The item's triggers: its summonses' counts taken away before it is deleted,
        moved with it to another node."""
        return self.item_move_triggers(
            "item_day",
            lambda row, sign: self.day_move(row, f"{row}.node_id", sign),
            f"OLD.node_id {self.distinct} NEW.node_id",
        )

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
        self._rebuild_days("summons_day_tally", self.DAY_KEYS, per_node=True)

    def _rebuild_days(self, table: str, keys: tuple[str, ...], *, per_node: bool) -> None:
        """Count every summons again into the day counts ``table`` (keyed by ``keys``), per
        unit and node of its item or per unit alone."""
        self.lock_for_replace(table)
        self.database.execute_sql(f"DELETE FROM {table}")
        values = self.day_values("assignment")
        columns = ", ".join((*keys, *self.DAY_COUNTS))
        by = "assignment.unit_id, item.node_id" if per_node else "assignment.unit_id"
        join = " JOIN item ON item.id = assignment.item_id" if per_node else ""
        self.database.execute_sql(
            f"INSERT INTO {table} ({columns})"
            f" SELECT {by}, {', '.join(values[:3])},"
            f" {', '.join(f'SUM({v})' for v in values[3:])} FROM assignment{join}"
            f" GROUP BY {by}, {', '.join(values[:3])}"
        )

    # The same counts summed over the items' nodes (models.SummonsUnitDayTally): a
    # summons counts at its unit and days alone, its item not read.
    UNIT_DAY_KEYS = ("unit_id", "day", "report_due", "handle_due")

    def unit_day_upsert(self, row: str, sign: int) -> str:
        """Add (1) or take away (-1) the summons ``row`` from its unit's day counts."""
        values = self.day_values(row)
        counts = [f"{sign} * ({v})" for v in values[3:]]
        columns = ", ".join((*self.UNIT_DAY_KEYS, *self.DAY_COUNTS))
        return (
            f"INSERT INTO summons_unit_day_tally ({columns})"
            f" VALUES ({row}.unit_id, {', '.join(values[:3] + counts)})"
            + self.on_conflict_add("summons_unit_day_tally", self.UNIT_DAY_KEYS, self.DAY_COUNTS)
        )

    def unit_day_tally_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``summons_unit_day_tally``
        (idempotent)."""
        return self.row_tally_triggers(
            "assignment_unit_day", "assignment", self.unit_day_upsert, self.day_changed()
        )

    def drop_unit_day_tally_triggers(self) -> list[str]:
        return self.drop_row_tally_triggers("assignment_unit_day", "assignment")

    def rebuild_unit_day_tally(self) -> None:
        """Count every summons again into ``summons_unit_day_tally`` (caller's
        transaction)."""
        self._rebuild_days("summons_unit_day_tally", self.UNIT_DAY_KEYS, per_node=False)

    # The evaluation's items touched (models.SummonsItemTally): a unit's summonses on one
    # item are one "pair"; each local day the pair was summoned on is an entry, keyed by
    # that day and the pair's previous such day ('' for the first). The pairs touched in
    # days [S, E] are the entries of those days whose previous day is before S: one each.
    # An entry carries its item's rating and reopening, so an item's change moves them.
    LOCAL_MINUTES = 480  # the local day (Asia/Shanghai: UTC+8 since 1991); see item_tally

    def local_date(self, value: str) -> str:
        """The SQL of a timestamp's local date as YYYY-MM-DD text."""
        return f"date({value}, '+{self.LOCAL_MINUTES} minutes')"

    ITEM_KEYS = ("unit_id", "node_id", "day", "prev_day")
    ITEM_COUNTS = ("touched", "rated", "rating_sum", "reopened")

    @staticmethod
    def item_values(item: str, sign: int | str) -> list[str]:
        """The counts one entry adds for the item ``item`` (a row reference), times ``sign``."""
        return [
            f"{sign}",
            f"{sign} * (CASE WHEN {item}.satisfaction IS NULL THEN 0 ELSE 1 END)",
            f"{sign} * COALESCE({item}.satisfaction, 0)",
            f"{sign} * (CASE WHEN {item}.reopen_count > 0 THEN 1 ELSE 0 END)",
        ]

    def item_on_conflict(self) -> str:
        return self.on_conflict_add("summons_item_tally", self.ITEM_KEYS, self.ITEM_COUNTS)

    def pair_upsert(self, unit: str, item: str, without: str, extra: str | None, sign: int) -> str:
        """Add (1) or take away (-1) the entries of the pair (``unit``, ``item``) counted
        from its summonses other than the one with id ``without``, and a summons at
        ``extra`` when given (nothing when the item is gone: its delete took them away)."""
        times = (
            f"SELECT summoned_at AS at FROM assignment WHERE unit_id = {unit}"
            f" AND item_id = {item} AND id <> {without}"
        )
        if extra is not None:
            times += f" UNION ALL SELECT {extra}"
        entries = (
            "SELECT d.day, COALESCE(LAG(d.day) OVER (ORDER BY d.day), '') AS prev"
            f" FROM (SELECT DISTINCT {self.local_date('s.at')} AS day FROM ({times}) s) d"
        )
        columns = ", ".join((*self.ITEM_KEYS, *self.ITEM_COUNTS))
        return (
            f"INSERT INTO summons_item_tally ({columns})"
            f" SELECT {unit}, item.node_id, e.day, e.prev, {', '.join(self.item_values('item', sign))}"
            f" FROM ({entries}) e, item WHERE item.id = {item}" + self.item_on_conflict()
        )

    def item_entries_move(self, item: str, sign: int) -> str:
        """Add (1) or take away (-1) every entry of the item ``item`` (a row reference:
        its node, rating and reopening as that row has them)."""
        entries = (
            "SELECT d.unit_id, d.day,"
            " COALESCE(LAG(d.day) OVER (PARTITION BY d.unit_id ORDER BY d.day), '') AS prev"
            f" FROM (SELECT DISTINCT unit_id, {self.local_date('summoned_at')} AS day"
            f" FROM assignment WHERE item_id = {item}.id) d"
        )
        columns = ", ".join((*self.ITEM_KEYS, *self.ITEM_COUNTS))
        return (
            f"INSERT INTO summons_item_tally ({columns})"
            f" SELECT e.unit_id, {item}.node_id, e.day, e.prev,"
            f" {', '.join(self.item_values(item, sign))} FROM ({entries}) e WHERE true"
            + self.item_on_conflict()
        )

    PAIR_CHANGED = (
        "(OLD.unit_id {d} NEW.unit_id) OR (OLD.item_id {d} NEW.item_id)"
        " OR (OLD.summoned_at {d} NEW.summoned_at)"
    )
    ITEM_CHANGED = (
        "(OLD.node_id {d} NEW.node_id) OR (OLD.satisfaction {d} NEW.satisfaction)"
        " OR ((OLD.reopen_count > 0) {d} (NEW.reopen_count > 0))"
    )

    def item_tally_steps(self) -> dict[str, list[str]]:
        """The statements of each trigger keeping ``summons_item_tally``."""
        up = self.pair_upsert
        old, new = ("OLD.unit_id", "OLD.item_id"), ("NEW.unit_id", "NEW.item_id")
        return {
            "insert": [up(*new, "NEW.id", None, -1), up(*new, "-1", None, 1)],
            "delete": [up(*old, "OLD.id", "OLD.summoned_at", -1), up(*old, "OLD.id", None, 1)],
            "update": [
                up(*old, "NEW.id", "OLD.summoned_at", -1),
                up(*old, "NEW.id", None, 1),
                up(*new, "NEW.id", None, -1),
                up(*new, "-1", None, 1),
            ],
            "gone": [self.item_entries_move("OLD", -1)],
            "changed": [self.item_entries_move("OLD", -1), self.item_entries_move("NEW", 1)],
        }

    def item_tally_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``summons_item_tally`` (idempotent)."""
        steps = {k: "BEGIN " + "; ".join(v) + "; END" for k, v in self.item_tally_steps().items()}
        pair = self.PAIR_CHANGED.format(d=self.distinct)
        item = self.ITEM_CHANGED.format(d=self.distinct)
        on = "CREATE TRIGGER IF NOT EXISTS"
        return [
            f"{on} assignment_items_insert AFTER INSERT ON assignment {steps['insert']}",
            f"{on} assignment_items_delete AFTER DELETE ON assignment {steps['delete']}",
            f"{on} assignment_items_update AFTER UPDATE ON assignment WHEN {pair} {steps['update']}",
            f"{on} item_items_delete BEFORE DELETE ON item {steps['gone']}",
            f"{on} item_items_change AFTER UPDATE ON item WHEN {item} {steps['changed']}",
        ]

    ITEM_TRIGGERS = (
        ("assignment_items_insert", "assignment"),
        ("assignment_items_delete", "assignment"),
        ("assignment_items_update", "assignment"),
        ("item_items_delete", "item"),
        ("item_items_change", "item"),
    )

    def drop_item_tally_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in self.ITEM_TRIGGERS]

    def rebuild_item_tally(self) -> None:
        """Count every summons' entry again into ``summons_item_tally`` (caller's
        transaction)."""
        self.lock_for_replace("summons_item_tally")
        self.database.execute_sql("DELETE FROM summons_item_tally")
        entries = (
            "SELECT d.unit_id, d.item_id, d.day, COALESCE(LAG(d.day)"
            " OVER (PARTITION BY d.unit_id, d.item_id ORDER BY d.day), '') AS prev"
            f" FROM (SELECT DISTINCT unit_id, item_id, {self.local_date('summoned_at')} AS day"
            " FROM assignment) d"
        )
        sums = ", ".join(f"SUM({v})" for v in self.item_values("item", 1))
        columns = ", ".join((*self.ITEM_KEYS, *self.ITEM_COUNTS))
        self.database.execute_sql(
            f"INSERT INTO summons_item_tally ({columns})"
            f" SELECT e.unit_id, item.node_id, e.day, e.prev, {sums}"
            f" FROM ({entries}) e JOIN item ON item.id = e.item_id"
            " GROUP BY e.unit_id, item.node_id, e.day, e.prev"
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
        each = "FOR EACH ROW EXECUTE FUNCTION"
        on = "CREATE OR REPLACE TRIGGER"
        return [
            assignment,
            f"{on} assignment_day_insert AFTER INSERT ON assignment {each} assignment_day()",
            f"{on} assignment_day_delete AFTER DELETE ON assignment {each} assignment_day()",
            (
                f"{on} assignment_day_update AFTER UPDATE ON assignment"
                f" FOR EACH ROW WHEN ({self.day_changed()}) EXECUTE FUNCTION assignment_day()"
            ),
            *self.day_item_triggers(),
        ]

    def drop_day_tally_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in self.DAY_TRIGGERS]

    def local_date(self, value: str) -> str:
        return f"to_char({value} + interval '{self.LOCAL_MINUTES} minutes', 'YYYY-MM-DD')"

    def pairs_replace(self, added: str | None, removed: str | None) -> str:
        """Take away the entries of the pairs a statement changed as they were and add them
        as they are, from its transition tables (``added``: the rows as written,
        ``removed``: as they were; either None). Rows whose unit, item and time did not
        change leave their pairs out."""
        if added and removed:
            moved = " OR ".join(
                f"b.{c} IS DISTINCT FROM a.{c}" for c in ("unit_id", "item_id", "summoned_at")
            )
            changed = f"{removed} b JOIN {added} a ON a.id = b.id WHERE {moved}"
            pairs = (
                f"SELECT b.unit_id, b.item_id FROM {changed}"
                f" UNION SELECT a.unit_id, a.item_id FROM {changed}"
            )
        else:
            pairs = f"SELECT DISTINCT unit_id, item_id FROM {added or removed}"
        now = (
            "SELECT x.unit_id, x.item_id, x.id, x.summoned_at FROM assignment x"
            " JOIN p ON p.unit_id = x.unit_id AND p.item_id = x.item_id"
        )
        before = now + (f" WHERE x.id NOT IN (SELECT id FROM {added})" if added else "")
        if removed:
            before += (
                " UNION ALL SELECT r.unit_id, r.item_id, r.id, r.summoned_at"
                f" FROM {removed} r JOIN p ON p.unit_id = r.unit_id AND p.item_id = r.item_id"
            )

        def entries(rows: str, sign: int) -> str:
            return (
                f"SELECT d.unit_id, d.item_id, d.day, {sign} AS sign, COALESCE(LAG(d.day)"
                " OVER (PARTITION BY d.unit_id, d.item_id ORDER BY d.day), '') AS prev"
                f" FROM (SELECT DISTINCT r.unit_id, r.item_id, {self.local_date('r.summoned_at')}"
                f" AS day FROM ({rows}) r) d"
            )

        columns = ", ".join((*self.ITEM_KEYS, *self.ITEM_COUNTS))
        sums = ", ".join(f"SUM({v})" for v in self.item_values("item", "e.sign"))
        return (
            f"WITH p AS ({pairs}) INSERT INTO summons_item_tally ({columns})"
            f" SELECT e.unit_id, item.node_id, e.day, e.prev, {sums}"
            f" FROM ({entries(before, -1)} UNION ALL {entries(now, 1)}) e"
            " JOIN item ON item.id = e.item_id"
            " GROUP BY e.unit_id, item.node_id, e.day, e.prev" + self.item_on_conflict()
        )

    def item_tally_triggers(self) -> list[str]:
        # Statement triggers with transition tables: PostgreSQL runs row triggers after
        # the whole statement, when a row's trigger would see the statement's other rows
        # of its pair already written (and count them twice).
        item = self.ITEM_CHANGED.format(d=self.distinct)

        def function(name: str, statement: str) -> str:
            return plpgsql_function(name, [statement])

        # BEFORE DELETE, as item_summons(): the cascade runs when the item is gone.
        item_function = (
            "CREATE OR REPLACE FUNCTION item_items() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            f" {self.item_entries_move('OLD', -1)};"
            " IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;"
            f" {self.item_entries_move('NEW', 1)};"
            " RETURN NULL; END $$"
        )
        each = "FOR EACH ROW EXECUTE FUNCTION"
        on = "CREATE OR REPLACE TRIGGER"
        statement = "FOR EACH STATEMENT EXECUTE FUNCTION"
        return [
            function("assignment_items_insert", self.pairs_replace("added", None)),
            function("assignment_items_delete", self.pairs_replace(None, "removed")),
            function("assignment_items_update", self.pairs_replace("added", "removed")),
            item_function,
            (
                f"{on} assignment_items_insert AFTER INSERT ON assignment"
                f" REFERENCING NEW TABLE AS added {statement} assignment_items_insert()"
            ),
            (
                f"{on} assignment_items_delete AFTER DELETE ON assignment"
                f" REFERENCING OLD TABLE AS removed {statement} assignment_items_delete()"
            ),
            (
                f"{on} assignment_items_update AFTER UPDATE ON assignment"
                " REFERENCING OLD TABLE AS removed NEW TABLE AS added"
                f" {statement} assignment_items_update()"
            ),
            f"{on} item_items_delete BEFORE DELETE ON item {each} item_items()",
            (
                f"{on} item_items_change AFTER UPDATE ON item"
                f" FOR EACH ROW WHEN ({item}) EXECUTE FUNCTION item_items()"
            ),
        ]

    def drop_item_tally_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in self.ITEM_TRIGGERS]
