#!/usr/bin/env python3
"""Generate a deterministic migration workload for the shale benchmark.

Usage: gen_workload.py N OUTDIR [--seed S]

Writes N plain migration files `0001_<name>.sql` ... into OUTDIR (created if missing; existing
`*.sql` files in it are removed first), in the style of the seed projects: every 5th file
(1, 6, 11, ...) creates a table (BIGSERIAL id, TEXT/VARCHAR columns, a JSONB column with a GIN
index, TIMESTAMPTZ created_at/updated_at with defaults, and except for the first table a foreign
key ON DELETE CASCADE or SET NULL to an earlier table). The other files change earlier tables:
ADD COLUMN with a default, ADD CONSTRAINT ... CHECK, CREATE INDEX (never CONCURRENTLY), COMMENT ON,
now and then a plpgsql updated_at trigger function with its trigger, and INSERTs of a few sample
rows; some files do two or three of these, as real migrations do.

Every file applies cleanly in order, whether each file runs on its own (`psql -f`), the whole
concatenation in one transaction (`psql -1`), or through `shale up`. The same N and seed always
give byte-identical files (Python's standard library only; no hash randomisation involved).
"""

import argparse
import os
import random
import sys

# Table names: domain words, combined with a prefix once the plain ones are used up.
NOUNS = [
    "users", "accounts", "organizations", "projects", "teams", "members", "invitations",
    "api_keys", "sessions", "webhooks", "deliveries", "invoices", "payments", "refunds",
    "subscriptions", "plans", "coupons", "products", "variants", "orders", "order_items",
    "carts", "shipments", "addresses", "warehouses", "suppliers", "documents", "folders",
    "comments", "reactions", "notifications", "audit_events", "feature_flags", "experiments",
    "tickets", "messages", "channels", "attachments", "tags", "labels", "releases",
    "deployments", "environments", "secrets", "usage_records", "reports", "dashboards",
    "alerts", "incidents", "schedules",
]
PREFIXES = ["billing", "crm", "ops", "analytics", "support", "catalog", "identity", "content"]

# Columns an ADD COLUMN may add: (name, type, default SQL or None, kind for later CHECKs).
EXTRA_COLUMNS = [
    ("priority", "INTEGER", "0", "nonneg"),
    ("position", "INTEGER", "0", "nonneg"),
    ("retry_count", "INTEGER", "0", "nonneg"),
    ("amount", "NUMERIC(12,2)", "0", "nonneg"),
    ("weight_grams", "BIGINT", "0", "nonneg"),
    ("is_archived", "BOOLEAN", "FALSE", None),
    ("is_public", "BOOLEAN", "TRUE", None),
    ("locale", "VARCHAR(16)", "'en'", "short"),
    ("currency", "VARCHAR(3)", "'EUR'", "short"),
    ("source", "TEXT", "'import'", "short"),
    ("external_ref", "VARCHAR(128)", None, None),
    ("notes", "TEXT", None, None),
    ("settings", "JSONB", "'{}'::jsonb", "json"),
    ("archived_at", "TIMESTAMPTZ", None, None),
    ("expires_at", "TIMESTAMPTZ", None, None),
    ("tags", "TEXT[]", "'{}'", None),
    ("version", "INTEGER", "1", "positive"),
    ("score", "DOUBLE PRECISION", "0", "nonneg"),
]

STATUSES = ["active", "pending", "archived"]
WORDS = [
    "alpha", "bravo", "cedar", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
    "kestrel", "lumen", "meadow", "nimbus", "onyx", "prairie", "quartz", "ridge", "sierra",
    "tundra", "umber", "violet", "willow", "xenon", "yarrow", "zephyr",
]

MAX_IDENT = 63


class Table:
    def __init__(self, name, parent, on_delete, created_in):
        self.name = name
        self.parent = parent  # Table or None
        self.fk_column = f"{parent.name}_id" if parent else None
        self.fk_not_null = on_delete == "CASCADE"
        self.created_in = created_in
        self.extra = []  # (name, type, default, kind) added later
        self.rows = 0
        self.has_trigger = False
        self.checked = set()  # columns with a CHECK already
        self.indexed = set()  # index signatures already created
        self.comments = 0

    def free_extra_columns(self):
        taken = {c[0] for c in self.extra}
        return [c for c in EXTRA_COLUMNS if c[0] not in taken]


class Generator:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.tables = []
        self.idents = set()
        self.names_used = set()

    # -- helpers ---------------------------------------------------------------------------

    def ident(self, *parts):
        """A unique identifier of at most 63 bytes (PostgreSQL would silently truncate longer ones)."""
        base = "_".join(parts)
        if len(base) > MAX_IDENT:
            base = base[:MAX_IDENT]
        name, n = base, 1
        while name in self.idents:
            n += 1
            suffix = f"_{n}"
            name = base[: MAX_IDENT - len(suffix)] + suffix
        self.idents.add(name)
        return name

    def table_name(self):
        for noun in NOUNS:
            if noun not in self.names_used:
                self.names_used.add(noun)
                return noun
        while True:
            name = f"{self.rnd.choice(PREFIXES)}_{self.rnd.choice(NOUNS)}"
            if name not in self.names_used:
                self.names_used.add(name)
                return name
            # All combinations taken: number them.
            for n in range(2, 100000):
                numbered = f"{name}_{n}"
                if numbered not in self.names_used:
                    self.names_used.add(numbered)
                    return numbered

    def pick_table(self, predicate=lambda t: True):
        """An earlier table, recent ones more likely (migrations mostly touch what is new)."""
        candidates = [t for t in self.tables if predicate(t)]
        if not candidates:
            return None
        weights = [1 + i for i in range(len(candidates))]
        return self.rnd.choices(candidates, weights=weights)[0]

    @staticmethod
    def quote(text):
        return "'" + text.replace("'", "''") + "'"

    # -- file kinds ------------------------------------------------------------------------

    def create_table(self, file_no):
        parent = self.pick_table() if self.tables else None
        on_delete = self.rnd.choice(["CASCADE", "SET NULL"]) if parent else None
        t = Table(self.table_name(), parent, on_delete, file_no)
        label = t.name.replace("_", " ")
        lines = [
            f"-- {label.capitalize()}: created by migration {file_no}.",
        ]
        if parent:
            verb = "deleted with" if on_delete == "CASCADE" else "kept (reference cleared) when deleting"
            lines.append(f"-- Rows are {verb} their {parent.name.replace('_', ' ')} row.")
        cols = [
            "    id BIGSERIAL PRIMARY KEY,",
        ]
        if parent:
            null = " NOT NULL" if t.fk_not_null else ""
            cols.append(
                f"    {t.fk_column} BIGINT{null} REFERENCES {parent.name}(id) ON DELETE {on_delete},"
            )
        cols += [
            "    name VARCHAR(255) NOT NULL,",
            "    slug VARCHAR(120) NOT NULL,",
            "    description TEXT,",
            "    status VARCHAR(20) NOT NULL DEFAULT 'active',",
            "    attributes JSONB NOT NULL DEFAULT '{}'::jsonb,",
            "    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),",
            "    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()",
        ]
        lines.append(f"CREATE TABLE {t.name} (")
        lines += cols
        lines.append(");")
        lines.append("")
        lines.append(
            f"CREATE UNIQUE INDEX {self.ident('idx', t.name, 'slug')} ON {t.name} (slug);"
        )
        lines.append(
            f"CREATE INDEX {self.ident('idx', t.name, 'attributes')} ON {t.name} USING GIN (attributes);"
        )
        if parent:
            lines.append(
                f"CREATE INDEX {self.ident('idx', t.name, t.fk_column)} ON {t.name} ({t.fk_column});"
            )
        t.indexed.update({("slug",), ("attributes",), (t.fk_column,)})
        self.tables.append(t)
        return f"create_{t.name}", lines

    def op_add_column(self):
        t = self.pick_table(lambda t: t.free_extra_columns())
        if t is None:
            return None
        col = self.rnd.choice(t.free_extra_columns())
        name, typ, default, _kind = col
        t.extra.append(col)
        if default is None:
            sql = f"ALTER TABLE {t.name} ADD COLUMN {name} {typ};"
        else:
            sql = f"ALTER TABLE {t.name} ADD COLUMN {name} {typ} NOT NULL DEFAULT {default};"
        return f"add_{name}_to_{t.name}", [sql]

    def op_add_check(self):
        def checkable(t):
            return "status" not in t.checked or any(
                c[3] and c[0] not in t.checked for c in t.extra
            )

        t = self.pick_table(checkable)
        if t is None:
            return None
        options = [c for c in t.extra if c[3] and c[0] not in t.checked]
        if "status" not in t.checked:
            options.append(("status", None, None, "status"))
        name, _typ, _default, kind = self.rnd.choice(options)
        t.checked.add(name)
        cname = self.ident("chk", t.name, name)
        expr = {
            "nonneg": f"{name} >= 0",
            "positive": f"{name} > 0",
            "short": f"char_length({name}) <= 64",
            "json": f"jsonb_typeof({name}) = 'object'",
            "status": "status IN (" + ", ".join(self.quote(s) for s in STATUSES) + ")",
        }[kind]
        return f"check_{t.name}_{name}", [
            f"ALTER TABLE {t.name} ADD CONSTRAINT {cname} CHECK ({expr});"
        ]

    def op_create_index(self):
        t = self.pick_table()
        choices = [("status",), ("created_at",), ("status", "created_at"), ("name",)]
        choices += [(c[0],) for c in t.extra if c[1] not in ("JSONB", "TEXT[]", "TEXT")]
        choices = [c for c in choices if c not in t.indexed]
        if not choices:
            return None
        cols = self.rnd.choice(choices)
        t.indexed.add(cols)
        iname = self.ident("idx", t.name, *cols)
        collist = ", ".join(f"{c} DESC" if c == "created_at" and len(cols) > 1 else c for c in cols)
        where = ""
        if cols != ("status",) and "status" not in cols and self.rnd.random() < 0.3:
            where = " WHERE status = 'active'"
        return f"index_{t.name}_on_{'_'.join(cols)}", [
            f"CREATE INDEX {iname} ON {t.name} ({collist}){where};"
        ]

    def op_comment(self):
        t = self.pick_table()
        t.comments += 1
        word = self.rnd.choice(WORDS)
        if t.comments == 1 or not t.extra:
            text = (
                f"{t.name.replace('_', ' ').capitalize()} of the {word} service; "
                f"it's owned by team {self.rnd.choice(WORDS)}."
            )
            return f"comment_on_{t.name}", [f"COMMENT ON TABLE {t.name} IS {self.quote(text)};"]
        col = self.rnd.choice(t.extra)[0]
        text = f"{col.replace('_', ' ').capitalize()} (\"{word}\" rollout; see the team's runbook)."
        return f"comment_on_{t.name}_{col}", [
            f"COMMENT ON COLUMN {t.name}.{col} IS {self.quote(text)};"
        ]

    def op_trigger(self):
        t = self.pick_table(lambda t: not t.has_trigger)
        if t is None:
            return None
        t.has_trigger = True
        fn = self.ident(t.name, "set_updated_at")
        trg = self.ident("trg", t.name, "updated_at")
        return f"updated_at_trigger_on_{t.name}", [
            f"-- Keep {t.name}.updated_at current on every UPDATE.",
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger",
            "LANGUAGE plpgsql AS $fn$",
            "BEGIN",
            "    -- Only touch the timestamp when something changed; it's cheap either way.",
            "    IF NEW IS DISTINCT FROM OLD THEN",
            "        NEW.updated_at := now();",
            "    END IF;",
            "    RETURN NEW;",
            "END;",
            "$fn$;",
            "",
            f"CREATE TRIGGER {trg}",
            f"    BEFORE UPDATE ON {t.name}",
            f"    FOR EACH ROW EXECUTE FUNCTION {fn}();",
        ]

    def op_insert(self, file_no):
        def insertable(t):
            # A NOT NULL (CASCADE) foreign key needs a parent row to point at.
            return not (t.parent and t.fk_not_null and t.parent.rows == 0)

        t = self.pick_table(insertable)
        if t is None:
            return None
        n = self.rnd.randint(2, 4)
        cols = ["name", "slug", "description", "status", "attributes"]
        if t.parent:
            cols.append(t.fk_column)
        rows = []
        for k in range(n):
            word = self.rnd.choice(WORDS)
            slug = f"{word}-{file_no}-{k + 1}"
            name = f"{word.capitalize()} {t.name.replace('_', ' ')} #{t.rows + k + 1}"
            desc = self.quote(f"Sample row from migration {file_no}; it's safe to delete.")
            status = self.rnd.choice(STATUSES)
            attrs = (
                '{"seed": true, "rank": %d, "labels": ["%s", "%s"]}'
                % (self.rnd.randint(1, 1000), word, self.rnd.choice(WORDS))
            )
            values = [self.quote(name), self.quote(slug), desc, self.quote(status), self.quote(attrs)]
            if t.parent:
                values.append(f"(SELECT min(id) FROM {t.parent.name})")
            rows.append("    (" + ", ".join(values) + ")")
        t.rows += n
        lines = [f"INSERT INTO {t.name} ({', '.join(cols)}) VALUES"]
        lines.append(",\n".join(rows) + ";")
        if t.has_trigger and self.rnd.random() < 0.5:
            lines.append(
                f"UPDATE {t.name} SET description = description || ' (reviewed)' "
                f"WHERE slug LIKE {self.quote('%-' + str(file_no) + '-%')};"
            )
        return f"seed_{t.name}", lines

    def alter_file(self, file_no):
        ops = [
            (self.op_add_column, 30),
            (self.op_create_index, 22),
            (self.op_add_check, 14),
            (self.op_comment, 14),
            (lambda: self.op_insert(file_no), 14),
            (self.op_trigger, 6),
        ]
        count = self.rnd.choices([1, 2, 3], weights=[60, 30, 10])[0]
        name, body = None, []
        attempts = 0
        while count > 0 and attempts < 50:
            attempts += 1
            op = self.rnd.choices([o for o, _ in ops], weights=[w for _, w in ops])[0]
            result = op()
            if result is None:
                continue
            op_name, lines = result
            if name is None:
                name = op_name
            elif body:
                body.append("")
            body += lines
            count -= 1
        if name is None:  # Nothing applicable (cannot really happen): a comment is always possible.
            name, body = self.op_comment()
        return name, body

    def generate(self, n):
        files = []
        for i in range(1, n + 1):
            if i % 5 == 1:
                name, lines = self.create_table(i)
            else:
                name, lines = self.alter_file(i)
            files.append((name, "\n".join(lines) + "\n"))
        return files


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of migration files")
    ap.add_argument("outdir", help="directory to write them to")
    ap.add_argument("--seed", type=int, default=20251125, help="random seed (default 20251125)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("N must be at least 1")
    os.makedirs(args.outdir, exist_ok=True)
    for old in os.listdir(args.outdir):
        if old.endswith(".sql"):
            os.remove(os.path.join(args.outdir, old))
    width = max(4, len(str(args.n)))
    total = 0
    for i, (name, text) in enumerate(Generator(args.seed).generate(args.n), start=1):
        name = name[:80]
        path = os.path.join(args.outdir, f"{i:0{width}d}_{name}.sql")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        total += len(text.encode("utf-8"))
    print(f"wrote {args.n} migrations ({total} bytes) to {args.outdir}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
