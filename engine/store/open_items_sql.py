"""The SQL of the stored open items of each summoned unit (``unit_open_item``): the
triggers that keep it and the statement that rebuilds it, as mixins of the backends
(``engine.store.backends``). A row is a pair of a unit and an open item that summoned it
(with the item's type);
the statements hold of the rows as they are (a pair is there or not), not counts, so
the order in which a statement's rows fire them does not matter. Only the trigger
wrapping differs between SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from engine.store.trigger_sql import plpgsql_function, sqlite_body


class OpenItemsSQL:
    """The SQLite way; :class:`PostgresOpenItemsSQL` wraps the same statements."""

    # Given by the backend class this is mixed into.
    database: Any
    distinct: str
    lock_for_replace: Any

    @staticmethod
    def open_pair_add(row: str) -> str:
        """Add the pair of the summons ``row`` (a row reference) if its item is open."""
        return (
            "INSERT INTO unit_open_item (unit_id, item_id, unit_path, definition_id, due_at)"
            f" SELECT {row}.unit_id, {row}.item_id, {row}.unit_path, item.definition_id,"
            " item.due_at FROM item"
            f" WHERE item.id = {row}.item_id AND NOT item.closed"
            " ON CONFLICT (unit_id, item_id) DO NOTHING"
        )

    @staticmethod
    def open_pair_drop(row: str) -> str:
        """Take the pair of the summons ``row`` away unless another summons holds it."""
        return (
            f"DELETE FROM unit_open_item WHERE unit_id = {row}.unit_id"
            f" AND item_id = {row}.item_id AND NOT EXISTS (SELECT 1 FROM assignment"
            f" WHERE assignment.item_id = {row}.item_id AND assignment.unit_id = {row}.unit_id)"
        )

    @staticmethod
    def open_item_pairs(item: str) -> list[str]:
        """The statements putting the item ``item``'s pairs as its summonses and its
        ``closed`` flag (a row reference) make them: taken away, then added when open."""
        return [
            f"DELETE FROM unit_open_item WHERE item_id = {item}.id",
            (
                "INSERT INTO unit_open_item (unit_id, item_id, unit_path, definition_id, due_at)"
                f" SELECT unit_id, item_id, MAX(unit_path), {item}.definition_id, {item}.due_at"
                " FROM assignment"
                f" WHERE item_id = {item}.id AND NOT {item}.closed GROUP BY unit_id, item_id"
                " ON CONFLICT (unit_id, item_id) DO NOTHING"
            ),
        ]

    OPEN_PAIR_CHANGED = (
        "(OLD.unit_id {d} NEW.unit_id) OR (OLD.item_id {d} NEW.item_id)"
        " OR (OLD.unit_path {d} NEW.unit_path)"
    )

    # An open item's deadline changed: its pairs follow (a closing's pairs go by
    # ``item_open_change``, a reopening's come with the new deadline).
    OPEN_DUE_CHANGED = "NOT NEW.closed AND (OLD.due_at {d} NEW.due_at)"

    def open_items_steps(self) -> dict[str, list[str]]:
        """The statements of each trigger keeping ``unit_open_item``. An item's delete
        takes its pairs away by the foreign key's cascade."""
        add, drop = self.open_pair_add, self.open_pair_drop
        return {
            "insert": [add("NEW")],
            "delete": [drop("OLD")],
            # moved to another unit or item: the old pair goes unless another summons holds
            # it, the new one comes; the same pair with a new path keeps it
            "update": [
                drop("OLD"),
                (
                    "UPDATE unit_open_item SET unit_path = NEW.unit_path"
                    " WHERE unit_id = NEW.unit_id AND item_id = NEW.item_id"
                ),
                add("NEW"),
            ],
            "closed": self.open_item_pairs("NEW"),
            # an open item's new deadline on its pairs (a closed one has none)
            "due": ["UPDATE unit_open_item SET due_at = NEW.due_at WHERE item_id = NEW.id"],
        }

    def open_items_triggers(self) -> list[str]:
        """Statements creating the triggers that keep ``unit_open_item`` (idempotent)."""
        steps = {k: sqlite_body(v) for k, v in self.open_items_steps().items()}
        pair = self.OPEN_PAIR_CHANGED.format(d=self.distinct)
        on = "CREATE TRIGGER IF NOT EXISTS"
        return [
            f"{on} assignment_open_insert AFTER INSERT ON assignment {steps['insert']}",
            f"{on} assignment_open_delete AFTER DELETE ON assignment {steps['delete']}",
            f"{on} assignment_open_update AFTER UPDATE ON assignment WHEN {pair} {steps['update']}",
            (
                f"{on} item_open_change AFTER UPDATE ON item"
                f" WHEN OLD.closed {self.distinct} NEW.closed {steps['closed']}"
            ),
            (
                f"{on} item_open_due AFTER UPDATE ON item"
                f" WHEN {self.OPEN_DUE_CHANGED.format(d=self.distinct)} {steps['due']}"
            ),
        ]

    OPEN_ITEMS_TRIGGERS = (
        ("assignment_open_insert", "assignment"),
        ("assignment_open_delete", "assignment"),
        ("assignment_open_update", "assignment"),
        ("item_open_change", "item"),
        ("item_open_due", "item"),
    )

    def drop_open_items_triggers(self) -> list[str]:
        """Statements removing what :meth:`open_items_triggers` made."""
        return [f"DROP TRIGGER IF EXISTS {name}" for name, _ in self.OPEN_ITEMS_TRIGGERS]

    def rebuild_open_items(self) -> None:
        """Gather every pair of a unit and an open item summoning it again into
        ``unit_open_item`` (caller's transaction)."""
        self.lock_for_replace("unit_open_item")
        self.database.execute_sql("DELETE FROM unit_open_item")
        self.database.execute_sql(
            "INSERT INTO unit_open_item (unit_id, item_id, unit_path, definition_id, due_at)"
            " SELECT assignment.unit_id, assignment.item_id, MAX(assignment.unit_path),"
            " MAX(item.definition_id), MAX(item.due_at)"
            " FROM assignment JOIN item ON item.id = assignment.item_id"
            " WHERE NOT item.closed GROUP BY assignment.unit_id, assignment.item_id"
        )


class PostgresOpenItemsSQL(OpenItemsSQL):
    """PL/pgSQL trigger functions around the same statements."""

    def open_items_triggers(self) -> list[str]:
        steps = self.open_items_steps()
        pair = self.OPEN_PAIR_CHANGED.format(d=self.distinct)
        function = plpgsql_function
        each = "FOR EACH ROW EXECUTE FUNCTION"
        on = "CREATE OR REPLACE TRIGGER"
        return [
            function("assignment_open_insert", steps["insert"]),
            function("assignment_open_delete", steps["delete"]),
            function("assignment_open_update", steps["update"]),
            function("item_open_change", steps["closed"]),
            function("item_open_due", steps["due"]),
            f"{on} assignment_open_insert AFTER INSERT ON assignment {each} assignment_open_insert()",
            f"{on} assignment_open_delete AFTER DELETE ON assignment {each} assignment_open_delete()",
            (
                f"{on} assignment_open_update AFTER UPDATE ON assignment"
                f" FOR EACH ROW WHEN ({pair}) EXECUTE FUNCTION assignment_open_update()"
            ),
            (
                f"{on} item_open_change AFTER UPDATE ON item"
                " FOR EACH ROW WHEN (OLD.closed IS DISTINCT FROM NEW.closed)"
                " EXECUTE FUNCTION item_open_change()"
            ),
            (
                f"{on} item_open_due AFTER UPDATE ON item"
                f" FOR EACH ROW WHEN ({self.OPEN_DUE_CHANGED.format(d=self.distinct)})"
                " EXECUTE FUNCTION item_open_due()"
            ),
        ]

    def drop_open_items_triggers(self) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in self.OPEN_ITEMS_TRIGGERS
        ]
