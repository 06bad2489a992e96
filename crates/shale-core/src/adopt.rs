//! Taking over another tool's history (`shale adopt`): which of the migration files the other
//! tool's table says are applied, and when it must not be trusted. Pure: the table's rows are
//! read elsewhere and handed over as a [`ForeignHistory`].

use std::fmt;

use crate::layout::{Layout, Migration, MigrationSet, Unrunnable};
use crate::version::Version;

/// The migration tools whose history tables shale reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    GolangMigrate,
    Dbmate,
    Goose,
    Sqlx,
    Diesel,
    Flyway,
    Refinery,
    NodePgMigrate,
    /// rubenv's sql-migrate: `gorp_migrations`, one row per applied file, by its file name.
    SqlMigrate,
    /// jackc's tern: `schema_version`, one row holding the version reached.
    Tern,
    /// gobuffalo's pop (soda, and Ory's popx): `schema_migration`, one row per version, written
    /// as the file's name writes it; a file per database (`.postgres.up.sql`), PostgreSQL's read.
    Pop,
    /// Prisma Migrate: `_prisma_migrations`, one row per attempt of a migration (its folder's
    /// name), with the SHA-256 of its `migration.sql`.
    Prisma,
    /// drizzle-kit's migrator: `drizzle.__drizzle_migrations`, a row per migration with the
    /// SHA-256 of its file and, as `created_at`, the `when` its journal gives it.
    Drizzle,
    /// Atlas's versioned migrations: `atlas_schema_revisions.atlas_schema_revisions`, a row per
    /// version with how many of its statements ran.
    Atlas,
    /// The Supabase CLI (`supabase db push`, `supabase migration up`):
    /// `supabase_migrations.schema_migrations`, one row per version with the statements it ran.
    Supabase,
    /// SQLAlchemy's Alembic: its migrations are Python scripts, so its history is not taken over
    /// (see [`Tool::migrations_are_sql`]); shale starts from the live schema instead.
    Alembic,
    /// Django's migrations (Python, like Alembic's): `django_migrations`.
    Django,
    /// Rails' Active Record migrations (Ruby): a `schema_migrations` of dbmate's shape, told apart
    /// by the `ar_internal_metadata` Rails keeps beside it ([`Tool::told_apart`]).
    Rails,
    /// Phoenix's Ecto (Elixir): a `schema_migrations` of versions with the `inserted_at` dbmate's lacks.
    Ecto,
    /// Knex (JavaScript): `knex_migrations`, with `knex_migrations_lock` beside it.
    Knex,
    /// TypeORM (TypeScript): `migrations (id, timestamp, name)`.
    TypeOrm,
    /// Sequelize (JavaScript): `"SequelizeMeta" (name)`.
    Sequelize,
    /// MikroORM (TypeScript): `mikro_orm_migrations`.
    MikroOrm,
    /// Kysely (TypeScript): `kysely_migration`, with `kysely_migration_lock` beside it.
    Kysely,
    /// Liquibase: `databasechangelog`, a row per changeset of its changelogs, with
    /// `databasechangeloglock` beside it.
    Liquibase,
    /// Laravel (PHP): `migrations (id, migration, batch)`.
    Laravel,
    /// Doctrine Migrations (PHP, Symfony): `doctrine_migration_versions`.
    Doctrine,
    /// Phinx (PHP, CakePHP): `phinxlog`.
    Phinx,
    /// Entity Framework Core (C#): `"__EFMigrationsHistory"`.
    EfCore,
    /// Hasura's CLI: before its config v3, `hdb_catalog.schema_migrations (version, dirty)`, one
    /// row per applied version (golang-migrate's columns, told apart by Hasura's schema); since,
    /// the versions applied to each database in `hdb_catalog.hdb_version`'s `cli_state`.
    Hasura,
    /// Sqitch: `sqitch.changes`, a row per deployed change of a project's plan, by change name.
    Sqitch,
    /// graphile-migrate: `graphile_migrate.migrations`, a row per committed file, by its name.
    GraphileMigrate,
    /// Mattermost's morph: `db_migrations (version, name)`, a row per applied version of its
    /// golang-migrate-style files.
    Morph,
    /// yoyo-migrations (Python): `_yoyo_migration (migration_hash, migration_id, applied_at_utc)`,
    /// a row per applied migration by its id (the file name without its extension), with
    /// `_yoyo_log`, `_yoyo_version` and `yoyo_lock` beside it. Its migrations are SQL files and
    /// Python steps in the order of their `-- depends:` headers, which shale does not read: a
    /// database it migrated starts shale's history from its live schema.
    Yoyo,
    /// aerich, Tortoise ORM's (Python): `aerich (id, version, app, content)`, a row per applied
    /// migration of each app (its file name), with the models it left as JSON. Its migrations are
    /// Python modules (`migrations/models/1_..._name.py`).
    Aerich,
    /// Piccolo ORM's migrations (Python): `migration (id, name, app_name, ran_on)`, a row per
    /// migration run, by app and id.
    Piccolo,
    /// peewee-migrate, Peewee's (Python): `migratehistory (id, name, migrated_at)`, a row per
    /// applied migration module (`001_initial`), under its `migrate_table`.
    PeeweeMigrate,
    /// SeaORM's migrator (Rust, `sea-orm-migration`): `seaql_migrations (version, applied_at)`, a
    /// row per applied migration module (`m20220101_000001_create_table`), under its
    /// `migration_table_name`.
    SeaOrm,
    /// db-migrate (JavaScript): `migrations (id, name, run_on)`, node-pg-migrate's columns, a row
    /// per migration by `/` and its file's name without `.js`; its SQL files (`--sql-file`) are
    /// `sqls/VERSION-name-up.sql` and `-down.sql`, which its modules read.
    DbMigrate,
    /// Postgrator (JavaScript, SQL files): `schemaversion (version, name, md5, run_at)`, a row per
    /// applied version of its `001.do.name.sql` files (and a row 0 it makes with the table).
    Postgrator,
    /// postgres-migrations (JavaScript, SQL files): `migrations (id, name, hash, executed_at)`, a
    /// row per applied file by its number (`1_create-users.sql` is 1), with the SHA-1 of the
    /// file's name and text, which it checks; its row 0 is its own table's. A `.js` migration's
    /// row is of the SQL its `generateSql` gave.
    PostgresMigrations,
    /// Yandex's pgmigrate (Python, SQL files `V0001__name.sql`): `schema_version (version,
    /// description, type, installed_by, installed_on)`, a row per applied version; a `manual` row
    /// is its `baseline`: every version up to it counts as applied (the rows below it deleted).
    Pgmigrate,
    /// pyway (Python, Flyway's `V01_01__name.sql` files): `pyway (installed_rank, version,
    /// extension, name, checksum, apply_timestamp)`, a row per applied file, its version with dots
    /// (`01.01`) and the CRC-32 of its bytes in upper-case hex, which it checks.
    Pyway,
    /// ley (JavaScript): `migrations (id, name, created_at)`, a row per applied module by its file
    /// name (`001-users.js`).
    Ley,
    /// @slonik/migrator (JavaScript, on umzug): `migration (name, hash, date)`, a row per applied
    /// file by its name (`2024.02.11T13.01.48.users.sql`, umzug's timestamp), with the MD5 of its
    /// text. Its files, named as umzug names them with their downs in `down/`, are not shale's.
    SlonikMigrator,
    /// Sequel's migrator (Ruby; Roda's, Hanami's through ROM): `schema_info (version)`, the
    /// version its IntegerMigrator reached, or `schema_migrations (filename)`, a row per file its
    /// TimestampMigrator ran (`20240101120000_users.rb`).
    Sequel,
    /// uptrace/bun's migrate package (Go): `bun_migrations (id, name, group_id, migrated_at)`, a row
    /// per migration named by its file's number, `group_id` the run that applied it.
    Bun,
}

impl Tool {
    pub const ALL: [Tool; 47] = [
        Tool::GolangMigrate,
        Tool::Dbmate,
        Tool::Goose,
        Tool::Sqlx,
        Tool::Diesel,
        Tool::Flyway,
        Tool::Refinery,
        Tool::NodePgMigrate,
        Tool::SqlMigrate,
        Tool::Tern,
        Tool::Pop,
        Tool::Prisma,
        Tool::Drizzle,
        Tool::Atlas,
        Tool::Supabase,
        Tool::Alembic,
        Tool::Django,
        Tool::Rails,
        Tool::Ecto,
        Tool::Knex,
        Tool::TypeOrm,
        Tool::Sequelize,
        Tool::MikroOrm,
        Tool::Kysely,
        Tool::Liquibase,
        Tool::Laravel,
        Tool::Doctrine,
        Tool::Phinx,
        Tool::EfCore,
        Tool::Hasura,
        Tool::Sqitch,
        Tool::GraphileMigrate,
        Tool::Morph,
        Tool::Yoyo,
        Tool::Aerich,
        Tool::Piccolo,
        Tool::PeeweeMigrate,
        Tool::SeaOrm,
        Tool::DbMigrate,
        Tool::Postgrator,
        Tool::PostgresMigrations,
        Tool::Pgmigrate,
        Tool::Pyway,
        Tool::Ley,
        Tool::SlonikMigrator,
        Tool::Sequel,
        Tool::Bun,
    ];

    /// The name used on the command line (`--from golang-migrate`), in messages and in `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Goose => "goose",
            Tool::Sqlx => "sqlx",
            Tool::Diesel => "diesel",
            Tool::Flyway => "flyway",
            Tool::Refinery => "refinery",
            Tool::NodePgMigrate => "node-pg-migrate",
            Tool::SqlMigrate => "sql-migrate",
            Tool::Tern => "tern",
            Tool::Pop => "pop",
            Tool::Prisma => "prisma",
            Tool::Drizzle => "drizzle",
            Tool::Atlas => "atlas",
            Tool::Supabase => "supabase",
            Tool::Alembic => "alembic",
            Tool::Django => "django",
            Tool::Rails => "rails",
            Tool::Ecto => "ecto",
            Tool::Knex => "knex",
            Tool::TypeOrm => "typeorm",
            Tool::Sequelize => "sequelize",
            Tool::MikroOrm => "mikro-orm",
            Tool::Kysely => "kysely",
            Tool::Liquibase => "liquibase",
            Tool::Laravel => "laravel",
            Tool::Doctrine => "doctrine",
            Tool::Phinx => "phinx",
            Tool::EfCore => "ef-core",
            Tool::Hasura => "hasura",
            Tool::Sqitch => "sqitch",
            Tool::GraphileMigrate => "graphile-migrate",
            Tool::Morph => "morph",
            Tool::Yoyo => "yoyo",
            Tool::Aerich => "aerich",
            Tool::Piccolo => "piccolo",
            Tool::PeeweeMigrate => "peewee-migrate",
            Tool::SeaOrm => "sea-orm",
            Tool::DbMigrate => "db-migrate",
            Tool::Postgrator => "postgrator",
            Tool::PostgresMigrations => "postgres-migrations",
            Tool::Pgmigrate => "pgmigrate",
            Tool::Pyway => "pyway",
            Tool::Ley => "ley",
            Tool::SlonikMigrator => "@slonik/migrator",
            Tool::Sequel => "sequel",
            Tool::Bun => "bun",
        }
    }

    pub fn parse(text: &str) -> Option<Tool> {
        let text = text.to_ascii_lowercase();
        Tool::ALL.into_iter().find(|t| t.as_str() == text || t.aliases().contains(&text.as_str()))
    }

    /// Other names the tool goes by (its command, its package), accepted wherever a tool is named.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Tool::GolangMigrate => &["migrate", "golang_migrate"],
            Tool::NodePgMigrate => &["node_pg_migrate", "pg-migrate"],
            Tool::SqlMigrate => &["sql_migrate", "sqlmigrate", "gorp"],
            Tool::Rails => &["activerecord", "active-record"],
            Tool::Pop => &["popx", "soda", "buffalo"],
            Tool::Prisma => &["prisma-migrate", "prisma_migrate"],
            Tool::Drizzle => &["drizzle-kit", "drizzle-orm"],
            Tool::Ecto => &["phoenix", "ecto_sql"],
            Tool::TypeOrm => &["type-orm"],
            Tool::MikroOrm => &["mikroorm", "mikro_orm"],
            Tool::EfCore => &["efcore", "ef_core", "entity-framework", "entityframework"],
            Tool::GraphileMigrate => &["graphile_migrate", "graphile"],
            Tool::Morph => &["mattermost-morph", "mattermost"],
            Tool::Yoyo => &["yoyo-migrations", "yoyo_migrations"],
            Tool::Aerich => &["tortoise", "tortoise-orm"],
            Tool::Piccolo => &["piccolo-orm", "piccolo_orm"],
            Tool::PeeweeMigrate => &["peewee_migrate", "peewee", "pw_migrate", "pw-migrate"],
            Tool::SeaOrm => &["seaorm", "sea_orm", "sea-orm-migration", "sea-orm-cli"],
            Tool::DbMigrate => &["db_migrate", "dbmigrate"],
            Tool::Postgrator => &["postgrator-cli"],
            Tool::PostgresMigrations => &["postgres_migrations"],
            Tool::Pgmigrate => &["yandex-pgmigrate", "yandex_pgmigrate"],
            Tool::SlonikMigrator => &["slonik-migrator", "slonik_migrator", "slonik"],
            Tool::Sequel => &["sequel-migrator", "hanami", "rom-sql", "roda"],
            Tool::Bun => &["uptrace-bun", "uptrace/bun", "bun/migrate"],
            _ => &[],
        }
    }

    /// The history table the tool makes unless configured otherwise.
    pub fn default_table(self) -> &'static str {
        match self {
            Tool::GolangMigrate | Tool::Dbmate | Tool::Rails | Tool::Supabase | Tool::Ecto => "schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Flyway => "flyway_schema_history",
            Tool::Refinery => "refinery_schema_history",
            Tool::NodePgMigrate => "pgmigrations",
            Tool::SqlMigrate => "gorp_migrations",
            Tool::Tern => "schema_version",
            Tool::Pop => "schema_migration",
            Tool::Prisma => "_prisma_migrations",
            Tool::Drizzle => "__drizzle_migrations",
            Tool::Atlas => "atlas_schema_revisions",
            Tool::Alembic => "alembic_version",
            Tool::Django => "django_migrations",
            Tool::Knex => "knex_migrations",
            Tool::TypeOrm => "migrations",
            Tool::Sequelize => "SequelizeMeta",
            Tool::MikroOrm => "mikro_orm_migrations",
            Tool::Kysely => "kysely_migration",
            Tool::Liquibase => "databasechangelog",
            Tool::Laravel => "migrations",
            Tool::Doctrine => "doctrine_migration_versions",
            Tool::Phinx => "phinxlog",
            Tool::EfCore => "__EFMigrationsHistory",
            Tool::Hasura => "hdb_version",
            Tool::Sqitch => "changes",
            Tool::GraphileMigrate => "migrations",
            Tool::Morph => "db_migrations",
            Tool::Yoyo => "_yoyo_migration",
            Tool::Aerich => "aerich",
            Tool::Piccolo => "migration",
            Tool::PeeweeMigrate => "migratehistory",
            Tool::SeaOrm => "seaql_migrations",
            Tool::DbMigrate => "migrations",
            Tool::Postgrator => "schemaversion",
            Tool::SlonikMigrator => "migration",
            Tool::Sequel => "schema_info",
            Tool::Bun => "bun_migrations",
            Tool::PostgresMigrations => "migrations",
            Tool::Pgmigrate => "schema_version",
            Tool::Pyway => "pyway",
            Tool::Ley => "migrations",
        }
    }

    /// The tool whose table has this name and these columns, if any.
    pub fn recognize(table: &str, columns: &[String]) -> Option<Tool> {
        let has = |c: &str| columns.iter().any(|x| x == c);
        // These columns and no other (`sorted`, in name order).
        let exactly = |sorted: &[&str]| {
            let mut have: Vec<&str> = columns.iter().map(String::as_str).collect();
            have.sort_unstable();
            have == sorted
        };
        match table {
            // popx's own column: its table under any name (`migration_table_name`).
            _ if has("version") && has("version_self") => Some(Tool::Pop),
            // Sequel's TimestampMigrator: the file names it ran (Sequel trial: written into the
            // baseline as the application's).
            "schema_migrations" if exactly(&["filename"]) => Some(Tool::Sequel),
            "schema_info" if exactly(&["version"]) => Some(Tool::Sequel),
            "schema_migrations" if has("version") && has("dirty") => Some(Tool::GolangMigrate),
            "schema_migrations" if has("version") && has("statements") => Some(Tool::Supabase),
            "schema_migrations" if has("version") && has("inserted_at") => Some(Tool::Ecto),
            "schema_migrations" if has("version") => Some(Tool::Dbmate),
            "goose_db_version" if has("version_id") && has("is_applied") => Some(Tool::Goose),
            "_sqlx_migrations" if has("version") && has("success") => Some(Tool::Sqlx),
            "__diesel_schema_migrations" if has("version") => Some(Tool::Diesel),
            "flyway_schema_history" | "schema_version" if has("installed_rank") && has("success") => Some(Tool::Flyway),
            "schema_version" if has("version") && has("type") && has("installed_by") => Some(Tool::Pgmigrate),
            "schema_version" if columns == ["version"] => Some(Tool::Tern),
            "refinery_schema_history" if has("version") => Some(Tool::Refinery),
            "pgmigrations" if has("name") && has("run_on") => Some(Tool::NodePgMigrate),
            "gorp_migrations" if has("id") && has("applied_at") => Some(Tool::SqlMigrate),
            "schema_migration" if has("version") => Some(Tool::Pop),
            "_prisma_migrations" if has("migration_name") && has("finished_at") => Some(Tool::Prisma),
            "__drizzle_migrations" if has("hash") && has("created_at") => Some(Tool::Drizzle),
            "atlas_schema_revisions" if has("version") && has("applied") && has("total") => Some(Tool::Atlas),
            "alembic_version" if has("version_num") => Some(Tool::Alembic),
            "django_migrations" if has("app") && has("name") && has("applied") => Some(Tool::Django),
            "knex_migrations" if has("name") && has("batch") => Some(Tool::Knex),
            // A table named `migrations` may well be the application's own (a table of data
            // migrations between hosts, say): only the tool's exact columns say it is its history.
            "migrations" if exactly(&["id", "name", "timestamp"]) => Some(Tool::TypeOrm),
            "SequelizeMeta" if has("name") => Some(Tool::Sequelize),
            "mikro_orm_migrations" if has("name") && has("executed_at") => Some(Tool::MikroOrm),
            "kysely_migration" if has("name") && has("timestamp") => Some(Tool::Kysely),
            "databasechangelog" if has("id") && has("author") && has("filename") => Some(Tool::Liquibase),
            "migrations" if exactly(&["batch", "id", "migration"]) => Some(Tool::Laravel),
            "migrations" if exactly(&["executed_at", "hash", "id", "name"]) => Some(Tool::PostgresMigrations),
            "migrations" if exactly(&["created_at", "id", "name"]) => Some(Tool::Ley),
            // (Its default name may be the application's: the tool's exact columns.)
            "migration" if exactly(&["date", "hash", "name"]) => Some(Tool::SlonikMigrator),
            "pyway" if has("version") && has("checksum") && has("installed_rank") => Some(Tool::Pyway),
            "doctrine_migration_versions" if has("version") && has("executed_at") => Some(Tool::Doctrine),
            "phinxlog" if has("version") && has("migration_name") => Some(Tool::Phinx),
            "__EFMigrationsHistory" if has("MigrationId") && has("ProductVersion") => Some(Tool::EfCore),
            "hdb_version" if has("cli_state") => Some(Tool::Hasura),
            "changes" if has("change_id") && has("script_hash") && has("project") => Some(Tool::Sqitch),
            "migrations" if exactly(&["date", "filename", "hash", "previous_hash"]) => Some(Tool::GraphileMigrate),
            "db_migrations" if columns.len() == 2 && has("version") && has("name") => Some(Tool::Morph),
            "_yoyo_migration" if has("migration_hash") && has("migration_id") => Some(Tool::Yoyo),
            "aerich" if has("version") && has("app") && has("content") => Some(Tool::Aerich),
            "schemaversion" if has("version") && has("md5") => Some(Tool::Postgrator),
            // A table named `migration` may be the application's: the tool's exact columns.
            "migration" if exactly(&["app_name", "id", "name", "ran_on"]) => Some(Tool::Piccolo),
            "migratehistory" if has("name") && has("migrated_at") => Some(Tool::PeeweeMigrate),
            "seaql_migrations" if has("version") && has("applied_at") => Some(Tool::SeaOrm),
            "bun_migrations" if has("name") && has("group_id") => Some(Tool::Bun),
            // A history under the name its config gives: its columns alone.
            _ => Tool::by_columns_alone(table, columns),
        }
    }

    /// The tool whose history table, which a project may name as it likes, has exactly these
    /// columns ([`NAMED_AS_CONFIGURED`]): drizzle's (`migrations: { table }`), Flyway's
    /// (`spring.flyway.table`), ..., or sql-migrate's (`TableName`) and dbmate's
    /// (`DBMATE_MIGRATIONS_TABLE`) when its name says it holds migrations (two columns `id` and
    /// `applied_at`, or one `version`, alone say too little) (dbmate trial: not found under
    /// `app_migrations`, `up` ran every migration again); so too TypeORM's, Kysely's, MikroORM's,
    /// peewee-migrate's and SeaORM's, whose few columns an application's table may have (review:
    /// `migrated_accounts (id, name, migrated_at)` was taken for peewee-migrate's history).
    pub fn by_columns_alone(table: &str, columns: &[String]) -> Option<Tool> {
        Tool::by_columns_exactly(columns).filter(|tool| {
            !matches!(
                tool,
                Tool::SqlMigrate
                    | Tool::Dbmate
                    | Tool::NodePgMigrate
                    | Tool::TypeOrm
                    | Tool::Kysely
                    | Tool::MikroOrm
                    | Tool::PeeweeMigrate
                    | Tool::SeaOrm
                    | Tool::PostgresMigrations
                    | Tool::SlonikMigrator
                    | Tool::Sequel
            ) || table.to_ascii_lowercase().contains("migration")
                // (peewee-migrate's own `migratehistory`, under a prefix: review.)
                || (*tool == Tool::PeeweeMigrate && table.to_ascii_lowercase().contains("migratehistory"))
        })
    }

    /// The tool whose history, under whatever name, has exactly these columns
    /// ([`NAMED_AS_CONFIGURED`]): for a table named on the command line, before a tool whose
    /// table merely has a column of the same name (Kysely trial: `--table ozone_migration` read
    /// as Sequelize's, whose `SequelizeMeta` has a `name`).
    pub fn by_columns_exactly(columns: &[String]) -> Option<Tool> {
        let mut sorted: Vec<&str> = columns.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        NAMED_AS_CONFIGURED.iter().find(|(_, exactly)| sorted == *exactly).map(|(tool, _)| *tool)
    }

    /// The tool whose history these columns would be, under a name that does not say it holds
    /// migrations, where [`Tool::by_columns_alone`] asks the name too: only its rows can say it,
    /// by naming the directory's files ([`rows_name_files`]) (review: node-pg-migrate's under
    /// `schema_versions` was not found, and `up` ran its migrations again). With the column that
    /// names each row's migration.
    pub fn by_columns_and_rows(columns: &[String]) -> Option<(Tool, &'static str)> {
        let tool = Tool::by_columns_exactly(columns)?;
        match tool {
            Tool::SqlMigrate => Some((tool, "id")),
            Tool::Dbmate => Some((tool, "version")),
            Tool::NodePgMigrate => Some((tool, "name")),
            _ => None,
        }
    }

    /// Whether a table `schema.table` of these `columns` can be this tool's history: its columns
    /// are the tool's own, as its own table's name would be recognized, and not exactly another
    /// tool's (Postgrator's, named with `--from dbmate`, whose rule asks only for a `version`:
    /// re-check), but for tools that keep the same ones (dbmate's lone `version` is tern's, Rails'
    /// and old pop's; node-pg-migrate's are db-migrate's).
    pub fn keeps_history_in(self, schema: &str, table: &str, columns: &[String]) -> bool {
        let family = |t: Tool| match t {
            Tool::Dbmate | Tool::Tern | Tool::Rails | Tool::Pop => 1,
            Tool::NodePgMigrate | Tool::DbMigrate => 2,
            _ => 0,
        };
        match Tool::by_columns_exactly(columns) {
            Some(other) => other == self || (family(self) != 0 && family(self) == family(other)),
            // `SequelizeMeta` has `name`, and umzug's SequelizeStorage with `timestamps` its
            // `createdAt` and `updatedAt`: any table with a `name` is not its (slonik trial:
            // `--table migration (name, hash, date)` was said to be Sequelize's).
            None if self == Tool::Sequelize => {
                columns.iter().any(|c| c == "name")
                    && columns.iter().all(|c| matches!(c.as_str(), "name" | "createdAt" | "updatedAt"))
            }
            None => Tool::recognize(self.default_table(), columns)
                .or_else(|| Tool::recognize(table, columns))
                .is_some_and(|found| found == self || found.told_apart(schema, |_| true) == self),
        }
    }

    /// The tool [`Tool::recognize`] found, told apart by the history table's schema and the
    /// tables `beside` says that schema holds: Rails' `schema_migrations` has dbmate's columns,
    /// and Rails keeps `ar_internal_metadata` beside it; Hasura's older one has golang-migrate's,
    /// in Hasura's `hdb_catalog`.
    pub fn told_apart(self, schema: &str, beside: impl Fn(&str) -> bool) -> Tool {
        match self {
            Tool::Dbmate if beside("ar_internal_metadata") => Tool::Rails,
            Tool::GolangMigrate if Some(schema) == Tool::Hasura.own_schema() => Tool::Hasura,
            other => other,
        }
    }

    /// The schema the tool makes for itself and keeps its history in, with whatever else it
    /// keeps there (Hasura's metadata and event tables): where a schema is compared or written
    /// out, that schema goes with the history table.
    pub fn own_schema(self) -> Option<&'static str> {
        match self {
            Tool::Hasura => Some("hdb_catalog"),
            Tool::Sqitch => Some("sqitch"),
            Tool::GraphileMigrate => Some("graphile_migrate"),
            _ => None,
        }
    }

    /// The tables the tool keeps beside its history table (in its schema), which go with it
    /// where a schema is compared or written out.
    pub fn companions(self) -> &'static [&'static str] {
        match self {
            Tool::Rails => &["ar_internal_metadata"],
            Tool::Knex => &["knex_migrations_lock"],
            Tool::Kysely => &["kysely_migration_lock"],
            Tool::Liquibase => &["databasechangeloglock"],
            // Where TypeORM records the views and generated columns it made.
            Tool::TypeOrm => &["typeorm_metadata"],
            Tool::Yoyo => &["_yoyo_log", "_yoyo_version", "yoyo_lock"],
            // The enum of its history's `type` column (pgmigrate trial: the baseline's check
            // counted it as a difference, and drift did after).
            Tool::Pgmigrate => &["schema_version_type"],
            // Where its `Lock` inserts a row while it migrates.
            Tool::Bun => &["bun_migration_locks"],
            _ => &[],
        }
    }

    /// [`Tool::companions`] of its history under the name `table`: Knex names its lock table
    /// after its history (`tableName` + `_lock`) (Knex trial: `app_schema_history_lock` went into
    /// the baseline).
    pub fn companions_of(self, table: &str) -> Vec<String> {
        let mut companions: Vec<String> = self.companions().iter().map(|c| c.to_string()).collect();
        // (Kysely's too, where a project names both alike: `ozone_migration_lock`.)
        if matches!(self, Tool::Knex | Tool::Kysely) && table != self.default_table() {
            companions.push(format!("{table}_lock"));
        }
        companions
    }
}

impl Tool {
    /// How to clear a failed migration's row in this tool's table `table`, the tool's way.
    pub fn clear_failure(self, table: &str, key: &str) -> String {
        match self {
            Tool::Flyway => format!(
                "run `flyway repair` (it removes the failed row); without Flyway's command line, the same in SQL: \
                 `DELETE FROM {table} WHERE NOT success`"
            ),
            Tool::Sqlx => format!(
                "remove the failed row (`DELETE FROM {table} WHERE version = {key} AND NOT success`; sqlx has no repair command)"
            ),
            // In SQL too, for a team that has removed Prisma (its CLI needs its schema engine).
            Tool::Prisma => format!(
                "run `prisma migrate resolve --rolled-back {key}` (or `--applied {key}` if it did complete); without \
                 Prisma, the same in SQL: `UPDATE {table} SET rolled_back_at = now() WHERE migration_name = '{key}' AND \
                 finished_at IS NULL AND rolled_back_at IS NULL` (or, if it did complete, `SET finished_at = now()` in \
                 its place)"
            ),
            Tool::Atlas => format!(
                "finish or undo it by hand, then record that with `atlas migrate set` (to {key} if it is complete, to the version before it if not); without Atlas, the same in SQL: `UPDATE {table} SET type = 4, error = NULL, applied = total WHERE version = '{key}'` if it is complete, `DELETE FROM {table} WHERE version = '{key}'` if it is undone"
            ),
            Tool::Hasura => format!(
                "finish or undo it by hand, then record that with Hasura's CLI (`hasura migrate apply --version {key} --skip-execution` if it is complete, the same with `--type down` if it is not)"
            ),
            // Its failure is an event in its log beside `changes`, not a row there.
            Tool::Sqitch => {
                let schema = table.rsplit_once('.').map_or("sqitch", |(schema, _)| schema);
                format!(
                    "check that nothing of it stayed (a deploy script in its own BEGIN ... COMMIT rolled back whole), \
                     then mark the failure dealt with in Sqitch's log: `DELETE FROM {schema}.events WHERE event = \
                     'fail' AND change = '{key}'`"
                )
            }
            other => format!("clear the failed row the way {other} does"),
        }
    }

    /// Where this tool's own migrate usually runs, to switch off once its history is taken over:
    /// left on, it runs what shale applied since, its own table no longer moving.
    pub fn where_it_runs(self) -> &'static str {
        match self {
            Tool::Flyway => {
                "Spring Boot's integration (`spring.flyway.enabled: false`, or SPRING_FLYWAY_ENABLED=false), a \
                 `flyway migrate` step of a deploy, the Maven or Gradle plugin"
            }
            Tool::Liquibase => {
                "Spring Boot's integration (`spring.liquibase.enabled: false`), a `liquibase update` step of a deploy"
            }
            Tool::Prisma => "`prisma migrate deploy` in a deploy or start script; Prisma Client stays, for queries",
            Tool::Sqlx => "`sqlx::migrate!().run(...)` at the application's start-up, `sqlx migrate run` in a deploy",
            Tool::Diesel => {
                "`run_pending_migrations` at the application's start-up, `diesel migration run` in a deploy"
            }
            Tool::Refinery => "the embedded runner at the application's start-up, `refinery migrate` in a deploy",
            Tool::GolangMigrate => "`migrate up` in a deploy step or a container entrypoint",
            Tool::Goose => "`goose up` in a deploy step or a container entrypoint, `goose.Up` in the application",
            Tool::Dbmate => "`dbmate up` (or `dbmate migrate`) in a deploy step or a container entrypoint",
            Tool::Supabase => "`supabase db push` or `supabase migration up` in CI",
            Tool::Drizzle => "`drizzle-kit migrate` or `migrate()` at the application's start-up",
            Tool::Atlas => "`atlas migrate apply` in a deploy step, the Atlas Operator or Terraform provider",
            Tool::NodePgMigrate => "`node-pg-migrate up` in a deploy or start script, `runner()` at start-up",
            Tool::Tern => "`tern migrate` in a deploy step, tern's `Migrator` in the application",
            Tool::SqlMigrate => "`sql-migrate up` in a deploy step, `migrate.Exec` in the application",
            Tool::Pop => "`soda migrate` in a deploy step, pop's or popx's migrator at the application's start-up",
            Tool::Morph => "the application's start-up (Mattermost's server runs morph itself)",
            Tool::Yoyo => {
                "`yoyo apply` in a deploy step, `backend.apply_migrations(...)` at the application's start-up"
            }
            Tool::Aerich => {
                "`aerich upgrade` in a deploy step or entrypoint, `Command(...).upgrade()` at start-up; and Tortoise's \
                 `generate_schemas=True` (`register_tortoise`) creates tables outside any history"
            }
            Tool::Piccolo => "`piccolo migrations forwards all` in a deploy step or entrypoint",
            Tool::PeeweeMigrate => {
                "`pw_migrate migrate` in a deploy step, `Router(db).run()` at the application's start-up; and \
                 Peewee's `create_tables()` makes tables outside any history"
            }
            Tool::SeaOrm => {
                "`Migrator::up(&db, None)` at the application's start-up, `sea-orm-cli migrate up` (or the migration \
                 crate's binary) in a deploy; and its `fresh` drops every table, shale's history too"
            }
            Tool::Hasura => "`hasura migrate apply` in CI, the migrations the Hasura image applies at start-up",
            Tool::Sqitch => "`sqitch deploy` in a deploy step",
            Tool::GraphileMigrate => "`graphile-migrate migrate` in a deploy or start script",
            Tool::DbMigrate => "`db-migrate up` in a deploy or start script, `getInstance().up()` at start-up",
            Tool::Postgrator => "`postgrator` (postgrator-cli) in a deploy or start script, `migrate()` at start-up",
            Tool::PostgresMigrations => {
                "`migrate({ client }, dir)` at the application's start-up, or its `pg-migrations` CLI"
            }
            Tool::Pgmigrate => "`pgmigrate -t latest migrate` in a deploy step",
            Tool::Pyway => "`pyway migrate` in a deploy step",
            Tool::Ley => "`ley up` in a deploy or start script",
            Tool::SlonikMigrator => "`node migrate up` (its SlonikMigrator script) in a deploy or start script",
            Tool::Sequel => {
                "`sequel -m DIR URL` (or `hanami db migrate`) in a deploy step, `Sequel::Migrator.run` at the \
                 application's start-up"
            }
            Tool::Bun => {
                "`migrator.Migrate(ctx)` at the application's start-up, the `db migrate` command of its `migrate.NewMigrator` \
                 CLI in a deploy step"
            }
            _ => "a deploy step, the application's start-up",
        }
    }

    /// How to make this tool's table `table` (as its messages name it) agree with a file changed since it
    /// was applied.
    pub fn accept_change(self, table: &str) -> String {
        match self {
            Tool::Flyway => "tell flyway first (`flyway repair` takes the new checksums)".to_string(),
            Tool::Sqlx => {
                format!("record the new checksum in {table} first (sqlx itself refuses to run with the file changed)")
            }
            Tool::Prisma => format!(
                "record the new checksum in {table} first (the SHA-256 of migration.sql, in hex; Prisma has no \
                 command for it)"
            ),
            Tool::Drizzle => format!("record the new hash in {table} first (the SHA-256 of the file, in hex)"),
            Tool::GraphileMigrate => format!(
                "graphile-migrate refuses the file too (its hash is in the file's `--! Hash:` line and {table}): \
                 restore it, or write the change as a new migration"
            ),
            Tool::Sqitch => {
                format!("record the new hash in {table} first (`script_hash`, the SHA-1 of the deploy script, in hex)")
            }
            Tool::Atlas => format!(
                "write atlas.sum's new hashes (after `atlas migrate hash`) into the `hash` column of {table} first"
            ),
            other => format!("record the change in {other}'s table ({table}) first"),
        }
    }
}

impl Tool {
    /// Whether the tool keeps its history in the schema its migrations run in (Flyway's
    /// `flyway.schemas`): a history found in another schema than the connection's then says the
    /// connection lacks the tool's search_path. drizzle, the Supabase CLI and Atlas keep theirs in
    /// a schema of its own (`drizzle`, `supabase_migrations`, `atlas_schema_revisions`) and run
    /// migrations in the connection's.
    pub fn history_beside_migrations(self) -> bool {
        // (pgmigrate's `-m SCHEMA` moves its history there, not its migrations: re-check.)
        !matches!(self, Tool::Drizzle | Tool::Supabase | Tool::Atlas | Tool::Pgmigrate) && self.own_schema().is_none()
    }

    /// Whether the tool's migrations are SQL files shale can match to its history. Alembic's and
    /// Django's are Python, Rails' Ruby, Ecto's Elixir, those of Knex and the TypeScript ORMs
    /// JavaScript, Liquibase's changesets in its changelogs: a database one of them migrated
    /// starts shale's history from its live schema (`baseline --from-database`), with the tool's
    /// tables left out.
    pub fn migrations_are_sql(self) -> bool {
        self.migration_form().is_none()
    }

    /// Whether the tool's history can be taken over with the migrations of `set`: its
    /// migrations are SQL files, or (Liquibase) `set` holds its changelogs written in SQL.
    /// node-pg-migrate's are SQL files or JavaScript modules (its default): with no SQL migration
    /// in `set` (the modules are left alone), its history is started from the live schema, as a
    /// tool's whose migrations are code.
    pub fn adoptable_with(self, set: &MigrationSet) -> bool {
        match self {
            // db-migrate's too: its modules, where they read SQL files (`--sql-file`), ran those.
            Tool::NodePgMigrate | Tool::DbMigrate => !set.migrations.is_empty(),
            // yoyo's SQL files, read where they are: it ran them (its Python steps are code).
            Tool::Yoyo => set.migrations.iter().any(|m| m.layout == Layout::Yoyo),
            // umzug's SQL files, run by umzug itself with Sequelize's storage (`SequelizeMeta`).
            Tool::Sequelize => set.migrations.iter().any(|m| m.layout == Layout::Umzug),
            _ => {
                self.migrations_are_sql()
                    || (self == Tool::Liquibase && set.migrations.iter().any(|m| m.layout == Layout::Liquibase))
            }
        }
    }

    /// What the tool's migrations are, when they are not SQL files (completing "its migrations
    /// are ...").
    pub fn migration_form(self) -> Option<&'static str> {
        match self {
            Tool::Alembic | Tool::Django => Some("Python scripts"),
            Tool::Rails | Tool::Sequel => Some("Ruby scripts"),
            Tool::Ecto => Some("Elixir scripts"),
            Tool::Knex | Tool::Sequelize | Tool::Ley => Some("JavaScript modules"),
            Tool::TypeOrm | Tool::MikroOrm | Tool::Kysely => Some("TypeScript or JavaScript modules"),
            Tool::Liquibase => Some("changesets of its changelogs (XML, YAML, JSON or Liquibase's formatted SQL)"),
            Tool::Laravel | Tool::Doctrine | Tool::Phinx => Some("PHP classes"),
            Tool::EfCore => Some("C# classes"),
            Tool::Yoyo => Some("SQL files and Python steps in the order of their `-- depends:` headers"),
            Tool::Aerich | Tool::Piccolo | Tool::PeeweeMigrate => Some("Python modules"),
            Tool::SeaOrm => Some("Rust modules"),
            _ => None,
        }
    }

    /// The command that brings a database to a given migration with a tool whose migrations are
    /// code, as its users type it (for advice: bring the database there, then baseline).
    pub fn migrate_to_command(self) -> Option<&'static str> {
        match self {
            Tool::Alembic => Some("alembic upgrade REVISION"),
            Tool::Django => Some("python manage.py migrate APP MIGRATION"),
            Tool::Rails => Some("rails db:migrate VERSION=..."),
            Tool::Sequel => Some("sequel -m DIR -M VERSION URL"),
            Tool::Ecto => Some("mix ecto.migrate --to VERSION"),
            Tool::Knex => Some("knex migrate:latest"),
            Tool::Sequelize => Some("sequelize db:migrate --to NAME"),
            Tool::TypeOrm => Some("typeorm migration:run"),
            Tool::MikroOrm => Some("mikro-orm migration:up --to NAME"),
            Tool::Liquibase => Some("liquibase update-to-tag TAG"),
            Tool::Laravel => Some("php artisan migrate"),
            Tool::Doctrine => Some("doctrine-migrations migrate VERSION"),
            Tool::Phinx => Some("phinx migrate -t VERSION"),
            Tool::EfCore => Some("dotnet ef database update MIGRATION"),
            Tool::Aerich => Some("aerich upgrade"),
            Tool::Piccolo => Some("piccolo migrations forwards APP MIGRATION_ID"),
            Tool::PeeweeMigrate => Some("pw_migrate migrate --name NAME"),
            Tool::SeaOrm => Some("sea-orm-cli migrate up -n COUNT"),
            Tool::Ley => Some("ley up"),
            Tool::SlonikMigrator => Some("node migrate up --to NAME"),
            Tool::DbMigrate => Some("db-migrate up"),
            Tool::Postgrator => Some("postgrator VERSION"),
            _ => None,
        }
    }
}

impl Tool {
    /// The tools' names as a sentence lists them: `a`, `a or b`, `a, b or c` (with `conjunction`
    /// "or"; "and" likewise).
    pub fn listed(tools: &[Tool], conjunction: &str) -> String {
        match tools {
            [] => String::new(),
            [one] => one.to_string(),
            [rest @ .., last] => {
                let rest: Vec<&str> = rest.iter().map(|t| t.as_str()).collect();
                format!("{} {conjunction} {last}", rest.join(", "))
            }
        }
    }

    /// The tools whose migrations are code ([`Tool::migrations_are_sql`] false): a database one
    /// of them migrated starts shale's history from its live schema.
    pub fn with_code_migrations() -> Vec<Tool> {
        Tool::ALL.into_iter().filter(|t| !t.migrations_are_sql()).collect()
    }
}

/// As [`Tool::as_str`] names it: `--json` says `typeorm` where the messages do.
impl serde::Serialize for Tool {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tools whose history table a project may name in its configuration, with exactly the
/// columns that table has, in name order: found under any name by them
/// ([`Tool::by_columns_alone`]), as Spring's `spring.flyway.table`, goose's `SetTableName`, Knex's
/// `tableName` or golang-migrate's `x-migrations-table` name it. Not found under another name
/// would mean `shale up` running again, on the live database, every migration the tool applied
/// whose tables a later one dropped. A tool whose table has columns that say too little (dbmate's
/// `version` alone, TypeORM's `id, timestamp, name`) is not here: `--table` names it.
/// Whether the rows of a table [`Tool::by_columns_and_rows`] found (`keys`, each naming its
/// migration) are a history of the directory's: at least one, and at least half of them, name a
/// file of it (`names_a_file`). An application's `jobs (id, name, run_on)` names none; a history
/// keeps naming the files its team removed since, which the half allows for.
pub fn rows_name_files(keys: &[String], names_a_file: impl Fn(&str) -> bool) -> bool {
    let named = keys.iter().filter(|k| names_a_file(k)).count();
    named > 0 && 2 * named >= keys.len()
}

/// Whether `key`, a row of `tool`'s history, names one of `files` as that tool names them:
/// sql-migrate by the file's name, dbmate by its version, node-pg-migrate by its name without its
/// extension (review: sql-migrate's row `1` was taken to name `1_init.sql`, and `adopt`, which
/// reads it exactly, then found no file).
pub fn row_names_a_file(tool: Tool, files: &[String], key: &str) -> bool {
    let key = key.trim();
    files.iter().any(|file| match tool {
        Tool::SqlMigrate => file == key,
        Tool::Dbmate => file.split_once('_').is_some_and(|(version, _)| version == key),
        // (db-migrate's, of the same columns: its rows name its SQL files' module with a `/`.)
        Tool::NodePgMigrate => {
            crate::layout::without_extension(file) == key
                || key.strip_prefix('/').is_some_and(|name| db_migrate_name(file) == Some(name))
        }
        Tool::DbMigrate => db_migrate_name(file).is_some_and(|name| key.strip_prefix('/').unwrap_or(key) == name),
        _ => false,
    })
}

pub const NAMED_AS_CONFIGURED: [(Tool, &[&str]); 25] = [
    (Tool::Drizzle, &["created_at", "hash", "id"]),
    // drizzle-kit 1.0's, which adds the migration's name and when it ran (drizzle trial: under its
    // `migrations.table`, not found).
    (Tool::Drizzle, &["applied_at", "created_at", "hash", "id", "name"]),
    (Tool::SqlMigrate, &["applied_at", "id"]),
    (
        Tool::Flyway,
        &[
            "checksum",
            "description",
            "execution_time",
            "installed_by",
            "installed_on",
            "installed_rank",
            "script",
            "success",
            "type",
            "version",
        ],
    ),
    (
        Tool::Liquibase,
        &[
            "author",
            "comments",
            "contexts",
            "dateexecuted",
            "deployment_id",
            "description",
            "exectype",
            "filename",
            "id",
            "labels",
            "liquibase",
            "md5sum",
            "orderexecuted",
            "tag",
        ],
    ),
    (Tool::Goose, &["id", "is_applied", "tstamp", "version_id"]),
    (Tool::GolangMigrate, &["dirty", "version"]),
    (Tool::Knex, &["batch", "id", "migration_time", "name"]),
    (Tool::Alembic, &["version_num"]),
    // popx's, under its `migration_table_name`.
    (Tool::Pop, &["version", "version_self"]),
    // dbmate's, under its `DBMATE_MIGRATIONS_TABLE` (a name that says it holds migrations).
    (Tool::Dbmate, &["version"]),
    // node-pg-migrate's, under its `--migrations-table` where its name says it holds migrations
    // (Node trial: under `migrations`, not found, `up` ran the migrations again; review: an
    // application's `jobs (id, name, run_on)` was then taken for it, and left out of a baseline).
    (Tool::NodePgMigrate, &["id", "name", "run_on"]),
    // TypeORM's `migrationsTableName` (TypeORM trial: `typeorm_migrations` was not found).
    (Tool::TypeOrm, &["id", "name", "timestamp"]),
    // Kysely's `migrationTableName` (Kysely trial: `ozone_migration` was written into a baseline).
    (Tool::Kysely, &["name", "timestamp"]),
    // yoyo's, under its `migration_table`.
    (Tool::Yoyo, &["applied_at_utc", "migration_hash", "migration_id"]),
    // @slonik/migrator's `migrationTableName` where its name says it holds migrations (slonik
    // trial: `--table migration` taken for Sequelize's, whose `SequelizeMeta` has a `name`).
    (Tool::SlonikMigrator, &["date", "hash", "name"]),
    // Sequel's TimestampMigrator's `:table` where its name says it holds migrations (Sequel trial:
    // ubicloud's `schema_migrations_password`, a second history for another role's migrations).
    (Tool::Sequel, &["filename"]),
    // Postgrator's, under its `schemaTable`.
    (Tool::Postgrator, &["md5", "name", "run_at", "version"]),
    // postgres-migrations' (and its forks'), where the name says it holds migrations.
    (Tool::PostgresMigrations, &["executed_at", "hash", "id", "name"]),
    // pgmigrate's (review: `--from dbmate --table schema_version` took it for dbmate's).
    (Tool::Pgmigrate, &["description", "installed_by", "installed_on", "type", "version"]),
    // pyway's, under its `--database-table`.
    (Tool::Pyway, &["apply_timestamp", "checksum", "extension", "installed_rank", "name", "version"]),
    // peewee-migrate's `migrate_table` where its name says it holds migrations (peewee trial:
    // `migratehistory` written into the baseline as the application's).
    (Tool::PeeweeMigrate, &["id", "migrated_at", "name"]),
    // SeaORM's `migration_table_name` where its name says it holds migrations (SeaORM trial:
    // `--table seaql_migrations` read as dbmate's, whose lone `version` it has).
    (Tool::SeaOrm, &["applied_at", "version"]),
    // MikroORM's `migrations.tableName` where its name says it holds migrations (MikroORM trial:
    // `app_migrations` written into the baseline, and MikroORM's runs after the switch unseen).
    (Tool::MikroOrm, &["executed_at", "id", "name"]),
    // bun's, under its `WithTableName` (its `group_id` says it).
    (Tool::Bun, &["group_id", "id", "migrated_at", "name"]),
];

/// The schemas of Supabase's own services (its auth server, Realtime, Storage, its functions
/// hooks), each with the migration history of that service: on a Supabase database (one with the
/// `supabase_admin` role, or with Supabase's `auth.users` and `storage` schema) they are never the
/// application's.
pub const SUPABASE_SERVICE_SCHEMAS: &[&str] = &["auth", "realtime", "_realtime", "storage", "supabase_functions"];

/// The schemas Supabase makes and manages in every project's database (its services', their
/// histories, the extensions and APIs it installs): on a Supabase database, comparisons leave
/// those the migrations do not build out.
pub const SUPABASE_MANAGED_SCHEMAS: &[&str] = &[
    "auth",
    "realtime",
    "_realtime",
    "storage",
    "supabase_functions",
    "supabase_migrations",
    "extensions",
    "graphql",
    "graphql_public",
    "vault",
    "pgsodium",
    "pgsodium_masks",
    "net",
    "pgbouncer",
    "_analytics",
    "cron",
];

/// The extensions Supabase installs in every project's database (in `extensions`, `graphql`,
/// `vault`, `pgsodium`): the platform's, as the schemas above. One a project installs itself
/// (`pg_trgm`, `vector`, `http`) is the project's, wherever it lives.
pub const SUPABASE_DEFAULT_EXTENSIONS: &[&str] =
    &["plpgsql", "uuid-ossp", "pgcrypto", "pgjwt", "pg_stat_statements", "pg_graphql", "supabase_vault", "pgsodium"];

/// The reason an adopted history row carries: the tool that applied the migration and the table
/// that said so. [`adopted_from`] reads the tool back.
pub fn adopted_reason(tool: Tool, table: &str) -> String {
    format!("adopted from {tool} ({table}); nothing ran")
}

/// The tool an adopted history row's reason names ([`adopted_reason`]), if it names one.
pub fn adopted_from(reason: &str) -> Option<Tool> {
    let rest = reason.strip_prefix("adopted from ")?;
    Tool::parse(rest.split([' ', ';']).next()?)
}

/// The table an adopted history row's reason names ([`adopted_reason`]): `schema.name`.
pub fn adopted_table(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("adopted from ")?;
    rest.split_once(" (").and_then(|(_, rest)| rest.split_once(')')).map(|(table, _)| table)
}

/// The reason of the audit row a baseline writes for the history of a tool whose migrations are
/// code (Alembic, Django, Rails, ...), left as it was: what its table held then. [`left_at_baseline`]
/// reads it back, so that a later change (the tool still migrates somewhere) shows.
pub fn left_at_baseline_reason(tool: Tool, table: &str, fingerprint: &str) -> String {
    format!("{tool}'s history ({table}) left as it was at the baseline: {fingerprint}")
}

/// [`left_at_baseline_reason`] for the table as it is now, accepted by the team (`shale repair
/// --accept-other-history`) for `why`: read back the same way, the baseline's row replaced.
pub fn accepted_reason(tool: Tool, table: &str, fingerprint: &str, why: &str) -> String {
    format!("{}{ACCEPTED}{why}", left_at_baseline_reason(tool, table, fingerprint))
}

const ACCEPTED: &str = "; accepted as it is since: ";

/// Whether a [`left_at_baseline_reason`] row is one `repair --accept-other-history` wrote.
pub fn accepted_since(reason: &str) -> bool {
    reason.contains(ACCEPTED)
}

/// The tool, table and fingerprint of a [`left_at_baseline_reason`] (or [`accepted_reason`]).
pub fn left_at_baseline(reason: &str) -> Option<(Tool, &str, &str)> {
    let (tool, rest) = reason.split_once("'s history (")?;
    let (table, fingerprint) = rest.split_once(") left as it was at the baseline: ")?;
    let fingerprint = fingerprint.split_once(ACCEPTED).map_or(fingerprint, |(f, _)| f);
    Some((Tool::parse(tool)?, table, fingerprint))
}

/// What a fingerprint adds of the sequences the table's ids come from, and of the rows written
/// to it as the server's statistics count them (see `shale_pg::foreign::fingerprint`).
const IDS: &str = ", ids to ";
const WRITES: &str = ", writes ";

/// A fingerprint's parts: its rows, the last ids given out (where its ids come from sequences)
/// and the rows written (inserted, updated, deleted) as the statistics count them.
fn fingerprint_parts(fingerprint: &str) -> (&str, Option<&str>, Option<u64>) {
    let (rest, writes) = match fingerprint.split_once(WRITES) {
        Some((rest, writes)) => (rest, writes.trim().parse().ok()),
        None => (fingerprint, None),
    };
    match rest.split_once(IDS) {
        Some((rows, ids)) => (rows, Some(ids), writes),
        None => (rest, None, writes),
    }
}

/// Whether a fingerprint is of a table with no rows (a history its tool made and left empty).
pub fn empty_fingerprint(fingerprint: &str) -> bool {
    fingerprint_parts(fingerprint).0.starts_with("0 rows")
}

/// Whether another tool's history is as a fingerprint recorded it: the same rows, and, where
/// its ids come from sequences, not a run of the tool reverted since, which leaves the rows as
/// they were but has given out ids and written rows (Knex and TypeORM trials: `migrate:rollback`
/// after the team took the run's change over made the warning go while the change was undone).
/// Both must have moved: a sequence alone jumps ahead after a crash or a failover (it logs 32
/// values ahead), while the statistics start again from nothing there; the statistics alone
/// count a copy restored from a dump, whose ids are restored as they were (review). One recorded
/// before fingerprints said them compares the rows alone.
pub fn same_fingerprint(then: &str, now: &str) -> bool {
    let (then_rows, then_ids, then_writes) = fingerprint_parts(then);
    let (now_rows, now_ids, now_writes) = fingerprint_parts(now);
    if then_rows != now_rows {
        return false;
    }
    let reverted = matches!((then_ids, now_ids), (Some(a), Some(b)) if a != b)
        && matches!((then_writes, now_writes), (Some(a), Some(b)) if b > a);
    !reverted
}

const JAVA: &str = "; a Java migration (";
const POP_NO_FILE: &str = "; no file here: one popx ran from Go code, or one whose file is gone";
const REMOVED: &str = "; no file here: removed on purpose (a squash), taken over as applied";
const MODULE: &str = "; a JavaScript or TypeScript module, which shale cannot run: ";

/// The reason of an adopted row for a migration the tool ran from code (a Flyway Java migration,
/// `class`), which has no file: [`adopted_code`] reads the class back. For pop, whose history
/// does not say what ran, the row says it has no file ([`adopted_without_file`] reads that).
pub fn adopted_code_reason(tool: Tool, table: &str, class: &str) -> String {
    match tool {
        Tool::Pop => format!("{}{POP_NO_FILE}", adopted_reason(tool, table)),
        // Taken over with its file gone ([`Accepting::missing`]).
        _ if class.is_empty() => format!("{}{REMOVED}", adopted_reason(tool, table)),
        Tool::NodePgMigrate | Tool::PostgresMigrations => format!("{}{MODULE}{class}", adopted_reason(tool, table)),
        _ => format!("{}{JAVA}{class}) with no SQL file, which shale cannot run", adopted_reason(tool, table)),
    }
}

/// Whether an adopted row's reason says the migration is applied with no file
/// ([`adopted_code_reason`]): it is then not missing.
pub fn adopted_without_file(reason: &str) -> bool {
    adopted_code(reason).is_some()
        || reason.contains(POP_NO_FILE)
        || reason.contains(REMOVED)
        || reason.contains(MODULE)
}

/// The class of the code an adopted row's reason names ([`adopted_code_reason`]), if any: the
/// migration is applied though no file has it, and is not missing.
pub fn adopted_code(reason: &str) -> Option<&str> {
    let rest = &reason[reason.find(JAVA)? + JAVA.len()..];
    rest.split_once(')').map(|(class, _)| class)
}

/// What another tool's table says, normalized.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ForeignHistory {
    pub tool: Tool,
    /// The table, schema-qualified.
    pub table: String,
    pub state: ForeignState,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ForeignState {
    /// golang-migrate keeps one row: the version reached (every migration up to it counts as
    /// applied), and whether the last one failed part-way. `None`: nothing applied.
    Current { version: Option<i64>, dirty: bool },
    /// One entry per migration the tool ran (its newest state per key).
    Entries(Vec<ForeignEntry>),
}

/// One migration in another tool's table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ForeignEntry {
    /// The version as the tool stored it (`"0001"`, `"20200101000000"`, `"1.2"`), or the name for
    /// node-pg-migrate.
    pub key: String,
    /// The tool says it failed (sqlx `success = false`, a failed Flyway row).
    pub failed: bool,
    /// Everything up to this version is applied without a row of its own (a Flyway baseline).
    pub baseline: bool,
    /// The checksum the tool recorded for the file, as it stores it (Flyway's CRC32 as a signed
    /// number, sqlx's SHA-384 in hex), when it keeps one.
    pub checksum: Option<String>,
    /// A Flyway repeatable migration (`R__`): `key` is its script as Flyway names it
    /// (`R__views.sql`, or with the folder under its location), and the entry is its last run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeatable: bool,
    /// A migration the tool ran from code, not from a file: the class of a Flyway Java migration
    /// (rows of type `JDBC` or `SPRING_JDBC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The tool's description of it (Flyway's `description`), when it keeps one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// When the tool applied it, in UTC as shale's history writes times (`2024-01-01T00:00:00Z`),
    /// where the tool records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    /// Of a failed attempt, what the tool recorded of it (Atlas: the statement it stopped at, and
    /// the error), where it records that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// A migration the other tool ran from code (a Flyway Java migration): no file has it, shale
/// cannot run it, and adopting records it as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMigration {
    pub version: Version,
    /// The version as the tool stored it.
    pub version_text: String,
    pub name: String,
    /// The class that ran (`com.example.db.migration.V2__Backfill`).
    pub class: String,
}

/// What adopting would record.
#[derive(Debug)]
pub struct Adoption<'a> {
    /// The migrations the other tool applied, in order: recorded as applied, nothing runs.
    pub applied: Vec<&'a Migration>,
    /// The applied ones shale could not run itself (goose's Go migrations): recorded too.
    pub applied_unrunnable: Vec<&'a Unrunnable>,
    /// The applied ones the tool ran from code, which no file has (Flyway's Java migrations):
    /// recorded too, with their class.
    pub applied_code: Vec<CodeMigration>,
    /// Flyway repeatables whose last run was of the file as it is now: recorded as run, so `up`
    /// does not run them again (a repeatable that inserts rows would insert them twice).
    pub applied_repeatables: Vec<&'a Migration>,
    /// The newest of them, as its file writes it.
    pub version: Option<String>,
    /// Left for `shale up`: versioned migrations the tool did not apply, then repeatables it did not
    /// run as they are now.
    pub pending: Vec<&'a Migration>,
    /// Things worth saying (a Flyway repeatable changed since Flyway ran it, say).
    pub notes: Vec<AdoptNote>,
    /// Of `applied`, those that run again when they change and changed since the tool ran them
    /// (Liquibase's `runOnChange`): recorded with [`EDITED_SINCE_THE_TOOL_RAN_IT`] for checksum,
    /// so that `up` runs them again, as the tool's next run would.
    pub rerun_edited: Vec<&'a Migration>,
}

/// The checksum recorded for a migration taken over that changed since the tool ran it and runs
/// again when it changes: no file's, so the next `up` runs it.
pub const EDITED_SINCE_THE_TOOL_RAN_IT: &str = "edited since the tool ran it";

/// Something worth saying about an adoption, not a problem. Its `Display` (and its JSON, a
/// string) says it in words for any application; a front end words its own commands (the CLI:
/// `shale up`) from the fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdoptNote {
    /// diesel's initial setup row (version 00000000000000) has no file here: passed over.
    DieselSetup,
    /// A repeatable changed since the tool last ran it (or the tool never ran it): migrating runs
    /// it, as the tool would.
    RepeatableChanged { tool: Tool, file: String },
    /// A migration in code that the tool has not applied here (goose's written in Go, a `.js` one
    /// of postgres-migrations'): shale cannot run it.
    GoPending { tool: Tool, file: String },
    /// A migration the tool ran from code (Flyway's Java migrations), recorded as applied with no
    /// file; `port_to` is the SQL file to port it to.
    Java { tool: Tool, version: String, class: String, port_to: String },
    /// A version in the tool's history that no file has, older than one a file has: for pop, a
    /// migration popx ran from Go code (Ory's services register a few), which shale cannot run.
    /// It is recorded as applied with no file ([`Adoption::applied_code`]).
    NoFileBefore { tool: Tool, key: String },
    /// Nothing was taken over: migrating runs every migration.
    Nothing,
    /// The tool's history is in schema `schema`, and unqualified names on this connection go to
    /// `now` ("no schema" for none): the tool migrated with search_path = `schema`, and `path` is
    /// that schema as a search_path names it.
    Schema { tool: Tool, schema: String, now: String, path: String },
    /// A file changed since the tool applied it, taken over as it is now because the adoption
    /// was asked to accept such files ([`plan_adoption_accepting`]).
    ChangedAccepted { tool: Tool, key: String, file: String },
    /// A migration the tool applied whose file is gone, taken over as applied with no file
    /// because the adoption was asked to ([`Accepting::missing`]).
    MissingAccepted { tool: Tool, key: String },
    /// A file the tool never runs, not being named as its migrations are (golang-migrate's are
    /// `.up.sql`), below the version it reached: not taken over, so migrating runs it, out of
    /// order.
    NotTheToolsFile { tool: Tool, file: String },
}

impl AdoptNote {
    /// The note with `migrating` for what runs the migrations ("migrating" in the library's words).
    pub fn text(&self, migrating: &str) -> String {
        match self {
            AdoptNote::DieselSetup => "diesel's initial setup (version 00000000000000) has no file here: passed over".into(),
            AdoptNote::RepeatableChanged { tool, file } => {
                format!("{file} changed since {tool} last ran it (or {tool} never ran it): {migrating} runs it, as {tool} would")
            }
            AdoptNote::GoPending { tool, file } => format!(
                "{file} is {} that {tool} has not applied here: shale cannot run it, so port it to SQL before \
                 {migrating} reaches it",
                // (re-check: a postgres-migrations `.js` file was called a goose migration in Go)
                match file.ends_with(".go") {
                    true => "a migration written in Go",
                    false => "a migration written in code",
                }
            ),
            AdoptNote::Java { tool, version, class, port_to } => format!(
                "migration {version} ({class}) is a Java migration: {tool} ran it here, shale cannot run it, so it is \
                 recorded as applied with no file; a new database gets nothing of it from {migrating}: if one needs its \
                 work, port it to SQL as {port_to}"
            ),
            AdoptNote::NoFileBefore { tool, key } => format!(
                "version {key} in {tool}'s history has no file here, while later ones have: a migration {tool} ran \
                 from Go code (popx registers some), or one whose file is gone: it is recorded as applied with no \
                 file, so a file of that version written later counts as applied here, and a new database gets \
                 nothing of it from {migrating}. If one needs its work, write it as SQL in a file of version {key}"
            ),
            AdoptNote::Nothing => format!("nothing taken over: {migrating} runs every migration"),
            AdoptNote::NotTheToolsFile { tool, file } => format!(
                "{file} is not named as {tool} names its migrations (`.up.sql`): {tool} never ran it, so it is not \
                 taken over; {migrating} runs it only out of order (a `-- shale:out-of-order` line in it allows \
                 that), where its work belongs in the database; else move it out of the directory"
            ),
            AdoptNote::MissingAccepted { tool, key } => format!(
                "{tool} applied migration {key}, which no file here has: recorded as applied with no file, as asked \
                 (removed on purpose, as by a squash)"
            ),
            AdoptNote::ChangedAccepted { tool, key, file } => format!(
                "{file} changed after {tool} applied migration {key}: recorded as applied as it is now, as asked; \
                 the database holds what the earlier text made, which may differ from what the files build"
            ),
            AdoptNote::Schema { tool, schema, now, path } => format!(
                "{tool}'s history is in schema {schema}, and so are the tables its migrations create without naming a \
                 schema, but unqualified names on this connection go to {now}: {tool} ran its migrations with \
                 search_path = {schema}{}, and \
                 {migrating} would create their tables in {now}. Connect with that search_path: add \
                 `options=-csearch_path%3D{path}` to the database URL (`postgres://...?options=-csearch_path%3D{path}`), \
                 or set PGOPTIONS='-c search_path={path}'",
                match tool {
                    Tool::Flyway => " (flyway.schemas or flyway.defaultSchema)",
                    _ => "",
                }
            ),
        }
    }
}

impl fmt::Display for AdoptNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text("migrating"))
    }
}

impl serde::Serialize for AdoptNote {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Why the other tool's history cannot be taken over as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdoptProblem {
    /// golang-migrate's dirty flag: the last migration failed part-way. `before` is the version
    /// to force when it did not complete: the file before it, or -1 (golang-migrate's "no
    /// version") when it is the first.
    Dirty { tool: Tool, table: String, version: i64, before: i64 },
    /// The tool marks this one failed (`failure`: what it recorded of the attempt).
    Failed { tool: Tool, table: String, key: String, failure: Option<String> },
    /// Applied by the tool, and no file here has it.
    NoFile { tool: Tool, key: String },
    /// The tool's migrations are not SQL files (Alembic's are Python): nothing to match.
    NotSql { tool: Tool, table: String },
    /// The file changed after the tool applied it: its checksum differs from the recorded one.
    Changed { tool: Tool, table: String, key: String, file: String },
}

impl fmt::Display for AdoptProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdoptProblem::Dirty { tool, table, version, .. } => write!(
                f,
                "{tool} marks version {version} dirty in {table}: it failed part-way, and the database may hold part of it"
            ),
            AdoptProblem::Failed { tool, table, key, failure } => write!(
                f,
                "{tool} records migration {key} as failed in {table}{}: the database may hold part of it",
                failure.as_deref().map(|f| format!(" ({f})")).unwrap_or_default()
            ),
            AdoptProblem::Changed { tool: Tool::Atlas, key, file, .. } => write!(
                f,
                "{file}, or a file before it, changed after atlas applied migration {key} (atlas.sum's hash of it, which \
                 runs through every file before it, differs from the one atlas recorded), so the database may not hold \
                 what the files say"
            ),
            AdoptProblem::Changed { tool, key, file, .. } => write!(
                f,
                "{file} changed after {tool} applied migration {key} (its checksum differs from the one {tool} recorded), \
                 so the database may not hold what the file says"
            ),
            AdoptProblem::NotSql { tool, table } => write!(
                f,
                "{tool}'s migrations are {}, which shale neither runs nor matches to files, so {table} cannot be \
                 taken over",
                match tool {
                    Tool::NodePgMigrate => "JavaScript modules here",
                    _ => tool.migration_form().unwrap_or("code"),
                }
            ),
            AdoptProblem::NoFile { tool, key } => write!(
                f,
                "{tool} applied migration {key}, and no file in the migrations directory has that version"
            ),
        }
    }
}

impl AdoptProblem {
    /// What to do about the problem, in words for any application (no shale command names; the
    /// other tool's own commands where they are the way out).
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            AdoptProblem::Dirty { tool, version, before, .. } => format!(
                "find out what it left, fix the database by hand, then clear the flag the way {tool} does \
                 (`migrate force {version}` if it is complete, `migrate force {before}` if it is not) and adopt again"
            ),
            AdoptProblem::Failed { tool, table, key, .. } => format!(
                "check it, repair the database, then {}, and adopt again",
                tool.clear_failure(table, key)
            ),
            AdoptProblem::Changed { tool, table, .. } => format!(
                "restore the file as it was applied, or, if the change is what the database holds, {}, then adopt again",
                tool.accept_change(table)
            ),
            AdoptProblem::NotSql { table, .. } => format!(
                "start shale's history from the live schema instead (written as the first migration and recorded as \
                 a baseline, {table} left out), then write new migrations in SQL"
            ),
            AdoptProblem::NoFile { tool: Tool::Pop, key } => format!(
                "restore the file (or read the migrations from the directory pop used); for a migration popx ran \
                 from Go code, write what it did as SQL in a file of version {key}; then adopt, so that the history \
                 stays complete"
            ),
            AdoptProblem::NoFile { tool: Tool::Liquibase, .. } => "restore the changelog (or read the migrations \
                 from the folder of the master changelog Liquibase ran); a changeset the contexts or label filter \
                 given leave out is not matched either: adopt with the contexts and label filter Liquibase ran with"
                .to_string(),
            AdoptProblem::NoFile { tool, .. } => format!(
                "restore the file (or read the migrations from the directory {tool} used) before adopting, so that \
                 the history stays complete"
            ),
        })
    }
}

/// A file's name without its extension (`1700000000000_users` of `.../1700000000000_users.js`,
/// and of the `.d.ts` beside it, which may be the one kept of the two: review).
fn file_stem(path: &std::path::Path) -> Option<&str> {
    path.file_name().and_then(|s| s.to_str()).map(crate::layout::without_extension)
}

/// The name db-migrate records for its migration of the SQL file `file`
/// (`20250101000001-create-users` of `sqls/20250101000001-create-users-up.sql`): its module's.
fn db_migrate_name(file: &str) -> Option<&str> {
    let name = file.rsplit('/').next()?.strip_suffix(".sql")?;
    name.strip_suffix("-up").or_else(|| name.strip_suffix("-down"))
}

/// Whether `key`, a row of the tool's history (a version, Prisma's folder name, ...), is of `m`.
pub fn matches(tool: Tool, m: &Migration, key: &str) -> bool {
    let Some(version) = &m.version else { return false };
    match tool {
        // diesel stores the folder name's prefix with its dashes removed, as text.
        Tool::Diesel => m.version_text.replace('-', "") == key || Version::parse(key).as_ref() == Some(version),
        // Prisma stores the migration's folder name.
        Tool::Prisma => m.file.split('/').next() == Some(key),
        // drizzle's rows are named by its journal's tag, the file name without `.sql`
        // ([`name_drizzle_entries`]); drizzle-kit 1.0's by their folder's name.
        Tool::Drizzle => m.file.strip_suffix(".sql") == Some(key) || m.file.strip_suffix("/migration.sql") == Some(key),
        // db-migrate stores `/` and its module's name, which its SQL files' names hold.
        Tool::DbMigrate => db_migrate_name(&m.file).is_some_and(|name| key.strip_prefix('/').unwrap_or(key) == name),
        // node-pg-migrate stores the file name without its extension.
        Tool::NodePgMigrate => {
            let stem = m.file.rsplit_once('.').map_or(m.file.as_str(), |(s, _)| s);
            stem == key || stem.strip_suffix(".up") == Some(key)
        }
        // sql-migrate stores the file's name (`1_init.sql`).
        Tool::SqlMigrate => m.file.rsplit('/').next() == Some(key),
        // graphile-migrate stores the file's number, as `000001.sql`, also of a file its `commit
        // --message` named `000001-add-users.sql`.
        Tool::GraphileMigrate => m.file.rsplit('/').next().is_some_and(|name| {
            name == key
                || name.split_once('-').is_some_and(|(number, _)| {
                    !number.is_empty()
                        && number.bytes().all(|b| b.is_ascii_digit())
                        && key.strip_suffix(".sql") == Some(number)
                })
        }),
        // Sqitch stores the change's name, which its plan gives the migration.
        Tool::Sqitch => m.name == key,
        Tool::Liquibase => liquibase_changeset(key, m),
        // yoyo stores the file's name without `.sql`, its id.
        Tool::Yoyo => m.file.strip_suffix(".sql") == Some(key),
        // @slonik/migrator stores the file's name (`2024.02.11T13.01.48.users.sql`), and so does
        // umzug in Sequelize's storage.
        Tool::SlonikMigrator | Tool::Sequelize => m.file == key,
        _ => Version::parse(key).as_ref() == Some(version),
    }
}

/// Whether Liquibase's row `key` (`FILENAME::ID::AUTHOR`, as the reader of its table joins them) is
/// the changeset `m`: its author and id, in its file (Liquibase records the path as the master
/// changelog gave it, `classpath:` and the folders above the migrations directory included; for a
/// changeset written in a changelog, or given a `logicalFilePath`, that: `m.changelog_file`).
fn liquibase_changeset(key: &str, m: &Migration) -> bool {
    let mut parts = key.rsplitn(3, "::");
    let (Some(author), Some(id), Some(recorded)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let named = m.name.strip_prefix(author).and_then(|rest| rest.strip_prefix(':')) == Some(id);
    let file = m.changelog_file.as_deref().unwrap_or(&m.file);
    m.layout == Layout::Liquibase && named && crate::layout::same_file(recorded, file)
}

/// Of a history holding the rows of several sources (a Sqitch registry's projects, the databases
/// Hasura serves; each entry carries its source as its description), the source whose rows are
/// taken over: the Sqitch plan's project; else the one whose rows the files have most of
/// (Hasura's `default` first among equals).
fn one_source(tool: Tool, set: &MigrationSet, entries: &[ForeignEntry], versioned: &[&Migration]) -> Option<String> {
    if !matches!(tool, Tool::Sqitch | Tool::Hasura) {
        return None;
    }
    if let Some(project) = set.sqitch_project.as_ref().filter(|_| tool == Tool::Sqitch) {
        return Some(project.clone());
    }
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for entry in entries {
        let known = versioned.iter().any(|m| matches(tool, m, &entry.key));
        *counts.entry(entry.description.as_str()).or_default() += usize::from(known);
    }
    let most = counts.values().copied().max()?;
    let best: Vec<&str> = counts.into_iter().filter(|(_, n)| *n == most).map(|(source, _)| source).collect();
    Some(if best.contains(&"default") { "default" } else { best[0] }.to_string())
}

/// Whether pop's history row `key` says `m` is applied: its version as the file writes it, or, as
/// Ory's popx reads rows pop wrote before its versions grew longer, the version's first 14 digits.
fn pop_applied(key: &str, m: &Migration) -> bool {
    matches(Tool::Pop, m, key) || (key.len() == 14 && m.version_text.len() > 14 && m.version_text.starts_with(key))
}

/// Flyway's checksum of a script: one CRC32 over the UTF-8 bytes of its lines, without their
/// line endings (and without a byte order mark), as a signed 32-bit number.
pub fn flyway_checksum(text: &str) -> i32 {
    let mut crc = crc32fast::Hasher::new();
    // Java's readLine ends a line at \n, \r or \r\n, and the lines are hashed one after the other
    // without their endings: what is hashed is every byte but the line breaks.
    for line in text.strip_prefix('\u{feff}').unwrap_or(text).split(['\r', '\n']) {
        crc.update(line.as_bytes());
    }
    crc.finalize() as i32
}

/// sqlx's checksum of a script: SHA-384 of its text, in hex.
pub fn sqlx_checksum(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha384::digest(text.as_bytes()))
}

/// Atlas's hash of each file, by file name: atlas.sum's, which `atlas_schema_revisions.hash`
/// records. One SHA-256 runs through the directory's files in name order, over each one's name and
/// bytes, and is taken (in base64) after each: a file changed or added since changes its own hash
/// and every later one's. A file with `atlas:sum ignore` in its header adds its name only.
pub fn atlas_hashes(set: &MigrationSet) -> Vec<(&str, String)> {
    atlas_hashes_of(set, |_| true)
}

/// [`atlas_hashes`] of the files `wanted` keeps alone (as the directory was before others came).
fn atlas_hashes_of(set: &MigrationSet, wanted: impl Fn(&Migration) -> bool) -> Vec<(&str, String)> {
    use base64::Engine;
    use sha2::Digest;
    let mut files: Vec<&Migration> = set.versioned().filter(|m| wanted(m)).collect();
    files.sort_by(|a, b| a.file.cmp(&b.file));
    let mut running = sha2::Sha256::new();
    let mut hashes = Vec::with_capacity(files.len());
    for m in files {
        running.update(m.file.as_bytes());
        if atlas_sum_ignored(m.raw_text()) {
            continue;
        }
        running.update(m.raw_text().as_bytes());
        hashes.push((m.file.as_str(), base64::engine::general_purpose::STANDARD.encode(running.clone().finalize())));
    }
    hashes
}

/// atlas.sum for `set`, as `atlas migrate hash` writes it: the sum of every file's hash (SHA-256
/// over each name and hash, in base64), then a line per file.
pub fn atlas_sum(set: &MigrationSet) -> String {
    use base64::Engine;
    use sha2::Digest;
    let hashes = atlas_hashes(set);
    let mut sum = sha2::Sha256::new();
    for (file, hash) in &hashes {
        sum.update(file.as_bytes());
        sum.update(hash.as_bytes());
    }
    let mut text = format!("h1:{}\n", base64::engine::general_purpose::STANDARD.encode(sum.finalize()));
    for (file, hash) in &hashes {
        text.push_str(&format!("{file} h1:{hash}\n"));
    }
    text
}

/// Whether the comments heading `text` hold Atlas's `atlas:sum ignore`.
fn atlas_sum_ignored(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--") || l.starts_with('#'))
        .any(|l| l.trim_start_matches(['-', '#', ' ']).split_whitespace().eq(["atlas:sum", "ignore"]))
}

/// Prisma's and drizzle's checksum of a script: SHA-256 of its text, in hex. Prisma wrote some
/// early rows without zero-padding each byte: `padded` false renders those.
pub fn sha256_checksum(text: &str, padded: bool) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    match padded {
        true => hex::encode(digest),
        false => digest.iter().map(|b| format!("{b:x}")).collect(),
    }
}

fn sha256_padded(text: &str) -> String {
    sha256_checksum(text, true)
}

/// graphile-migrate's hash of one of its committed files, as its `--! Hash:` line and its table
/// record it: SHA-1 over the `--! Previous:` hash, a newline and the body below the `--!` header
/// lines (trimmed); None for a file that has no such header, or allows an invalid hash
/// (`--! AllowInvalidHash`), which graphile-migrate then does not compare either.
pub fn graphile_hash(text: &str) -> Option<String> {
    use sha1::Digest;
    let mut previous = None;
    let mut header_lines = 0;
    for line in text.split('\n') {
        let Some(header) = line.strip_prefix("--! ") else { break };
        let (key, value) = header.split_once(':').map_or((header, None), |(k, v)| (k, Some(v.trim())));
        if !(key.starts_with(|c: char| c.is_ascii_uppercase())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            break;
        }
        match key {
            "Previous" => previous = value,
            "AllowInvalidHash" => return None,
            _ => {}
        }
        header_lines += 1;
    }
    let previous = previous?;
    let body: Vec<&str> = text.split('\n').skip(header_lines).collect();
    let body = body.join("\n");
    let previous = if previous == "-" { "" } else { previous };
    let hashed = format!("{}\n", format!("{previous}\n{}", body.trim()).trim());
    Some(format!("sha1:{}", hex::encode(sha1::Sha1::digest(hashed.as_bytes()))))
}

/// The committed files of graphile-migrate changed since its `commit` wrote them: their `--! Hash:`
/// line is no longer their text's hash (graphile-migrate refuses such a file, "has the file been
/// tampered with?"); a pending one is otherwise run as it is now.
pub fn graphile_files_changed_since_commit(set: &MigrationSet) -> Vec<&Migration> {
    set.migrations
        .iter()
        .filter(|m| {
            let text = m.raw_text();
            text.starts_with("--! Previous:")
                && graphile_recorded_hash(text)
                    .is_some_and(|recorded| graphile_hash(text).is_some_and(|h| h != recorded))
        })
        .collect()
}

/// The `--! Hash:` line of one of graphile-migrate's committed files.
pub fn graphile_recorded_hash(text: &str) -> Option<&str> {
    text.split('\n').take_while(|l| l.starts_with("--! ")).find_map(|l| l.strip_prefix("--! Hash:")).map(str::trim)
}

/// postgres-migrations' hash of a file: SHA-1 of its name (without its folder) followed by its
/// text, in hex.
pub fn postgres_migrations_hash(file: &str, text: &str) -> String {
    use sha1::Digest;
    let name = file.rsplit('/').next().unwrap_or(file);
    hex::encode(sha1::Sha1::digest(format!("{name}{text}").as_bytes()))
}

/// @slonik/migrator's hash of a file: the MD5 of its text trimmed and each run of white space made
/// one space, the first 10 hex digits.
pub fn slonik_migrator_hash(text: &str) -> String {
    let mut hex = md5_hex(&text.split_whitespace().collect::<Vec<_>>().join(" "));
    hex.truncate(10);
    hex
}

/// The MD5 of a text, in hex: Postgrator's `md5` of a file (of its text as written; its `newline`
/// option turns line endings one way first, which [`applied_this`] tries).
pub fn md5_hex(text: &str) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(text.as_bytes()))
}

/// pyway's checksum of a file: the CRC-32 of its bytes as written, in upper-case hex without
/// leading zeros.
pub fn pyway_checksum(text: &str) -> String {
    format!("{:X}", crc32fast::hash(text.as_bytes()))
}

/// Sqitch's `script_hash` of a deploy script: SHA-1 of the file's bytes, in hex.
pub fn sqitch_script_hash(text: &str) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(text.as_bytes()))
}

/// drizzle-kit's journal (`meta/_journal.json` beside its migrations): the tag (the file name
/// without `.sql`) of each migration, by the `when` drizzle records as its row's `created_at`.
/// A text that is not such a journal (a merge's conflict markers left in it) is an error with
/// its line and column: read as none, its migrations were matched by hash alone, and adopt
/// recorded the wrong ones (drizzle trial).
pub fn drizzle_journal(text: &str) -> Result<Vec<(String, String)>, JournalError> {
    #[derive(serde::Deserialize)]
    struct Journal {
        entries: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        when: i64,
        tag: String,
    }
    if let Some(at) = text.find("\n<<<<<<< ").map(|at| at + 1).or(text.starts_with("<<<<<<< ").then_some(0)) {
        let line = text[..at].matches('\n').count() + 1;
        return Err(JournalError { line, column: 1, message: "holds a merge's conflict markers".into() });
    }
    serde_json::from_str::<Journal>(text)
        .map(|j| j.entries.into_iter().map(|e| (e.when.to_string(), e.tag)).collect())
        .map_err(|e| {
            // (serde's message ends with its own "at line L column C", given apart here.)
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            JournalError { line: e.line(), column: e.column(), message: format!("is not drizzle's journal: {message}") }
        })
}

/// Where and why a drizzle journal could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// drizzle's rows named as its journal names their migrations: each row's `created_at` (kept in
/// `description`) is the journal's `when` of one tag. A row the journal does not name keeps its
/// hash as its key, and is found by it.
pub fn name_drizzle_entries(foreign: &mut ForeignHistory, journal: &[(String, String)]) {
    if let ForeignState::Entries(entries) = &mut foreign.state {
        for e in entries.iter_mut() {
            if let Some((_, tag)) = journal.iter().find(|(when, _)| *when == e.description) {
                e.key = tag.clone();
            }
        }
    }
}

/// Whether `recorded`, a checksum `checksum` computes of a file's bytes, is of migration `m`'s
/// file: as it is written now (a byte order mark, mixed line endings and all), or with its line
/// endings either way (a checkout on Windows turns LF into CRLF, or back: the same migration).
fn applied_this(recorded: &str, m: &Migration, checksum: impl Fn(&str) -> String) -> bool {
    let text = &*m.up.text;
    let crlf = text.replace('\n', "\r\n");
    [m.raw_text(), text, &crlf, &format!("\u{feff}{text}"), &format!("\u{feff}{crlf}")]
        .iter()
        .any(|raw| recorded.eq_ignore_ascii_case(&checksum(raw)))
}

/// Which files the other tool applied. Every problem is reported together; nothing is adopted
/// while the other tool says the database is in doubt.
pub fn plan_adoption<'a>(set: &'a MigrationSet, foreign: &ForeignHistory) -> Result<Adoption<'a>, Vec<AdoptProblem>> {
    plan_adoption_accepting(set, foreign, Accepting::default())
}

/// What an adoption takes over as it is instead of refusing it, each with a note.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accepting {
    /// Files changed since the tool applied them, taken over as they are now: Prisma and drizzle
    /// never compare an applied file with what they ran, so their projects often hold such files.
    pub changed: bool,
    /// Migrations the tool applied whose file is gone, taken over as applied with no file: Prisma's
    /// squashing replaces the old folders with one the database is told is applied, and leaves
    /// their rows, which Prisma then never looks at. Not where a file has the version.
    pub missing: bool,
}

/// [`plan_adoption`], taking over as they are what `accepting` says instead of refusing them.
pub fn plan_adoption_accepting<'a>(
    set: &'a MigrationSet,
    foreign: &ForeignHistory,
    accepting: Accepting,
) -> Result<Adoption<'a>, Vec<AdoptProblem>> {
    let tool = foreign.tool;
    if !tool.adoptable_with(set) {
        return Err(vec![AdoptProblem::NotSql { tool, table: foreign.table.clone() }]);
    }
    let versioned: Vec<&Migration> = set.versioned().collect();
    let changed = |key: &str, m: &Migration| AdoptProblem::Changed {
        tool,
        table: foreign.table.clone(),
        key: key.to_string(),
        file: m.file.clone(),
    };
    // What a row may be: a migration, or a Liquibase changeset the contexts given leave out, which
    // Liquibase ran with others (taken over as applied; nothing else looks at it).
    let candidates: Vec<&Migration> = versioned.iter().copied().chain(&set.left_out_changesets).collect();
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let mut unrunnable: Vec<&Unrunnable> = Vec::new();
    let mut code: Vec<CodeMigration> = Vec::new();
    let mut rerun_edited: Vec<&Migration> = Vec::new();
    let atlas: Vec<(&str, String)> = if tool == Tool::Atlas { atlas_hashes(set) } else { Vec::new() };
    // And as the directory was with the files Atlas applied alone: one added since, below them
    // (a branch merged late), changes every later hash without a file changing.
    let atlas_applied: Vec<(&str, String)> = match (&foreign.state, tool) {
        (ForeignState::Entries(entries), Tool::Atlas) => {
            atlas_hashes_of(set, |m| entries.iter().any(|e| matches(tool, m, &e.key)))
        }
        _ => Vec::new(),
    };
    let atlas_hash = |m: &Migration, recorded: &str| {
        [&atlas, &atlas_applied].iter().any(|hashes| hashes.iter().any(|(file, h)| *file == m.file && h == recorded))
    };
    // Atlas's hashes run on through the files: past the first that differs, every later one does.
    let mut atlas_named = false;
    let applied: Vec<&Migration> = match &foreign.state {
        ForeignState::Current { version, dirty } => {
            if let (Some(v), true) = (version, dirty) {
                let before = versioned
                    .iter()
                    .filter_map(|m| m.version_text.parse::<i64>().ok())
                    .filter(|x| x < v)
                    .max()
                    .unwrap_or(-1);
                problems.push(AdoptProblem::Dirty { tool, table: foreign.table.clone(), version: *v, before });
            }
            match version {
                Some(v) if *v >= 0 => {
                    let reached = Version::parse(&v.to_string()).expect("a number is a version");
                    let known = versioned.iter().any(|m| m.version.as_ref() == Some(&reached))
                        || set.find_unrunnable(&reached).is_some();
                    if !known && *v > 0 {
                        problems.push(AdoptProblem::NoFile { tool, key: v.to_string() });
                    }
                    unrunnable.extend(set.unrunnable.iter().filter(|u| u.version <= reached));
                    let reached_by = |m: &&Migration| m.version.as_ref().is_some_and(|x| x <= &reached);
                    // golang-migrate runs `.up.sql` files only: a plain file beside them never ran
                    // (breadth trial: mergestat's two were recorded as applied by it).
                    let pairs = versioned.iter().any(|m| m.layout == Layout::UpDownPair);
                    let never_run =
                        |m: &&Migration| tool == Tool::GolangMigrate && pairs && m.layout != Layout::UpDownPair;
                    for m in versioned.iter().filter(|m| reached_by(m) && never_run(m)) {
                        notes.push(AdoptNote::NotTheToolsFile { tool, file: m.file.clone() });
                    }
                    versioned.iter().copied().filter(|m| reached_by(m) && !never_run(m)).collect()
                }
                _ => Vec::new(),
            }
        }
        ForeignState::Entries(entries) => {
            let baseline = entries.iter().filter(|e| e.baseline).filter_map(|e| Version::parse(&e.key)).max();
            let mut applied = Vec::new();
            let mut without_file = Vec::new();
            let source = one_source(tool, set, entries, &versioned);
            let entries = entries.iter().filter(|e| source.as_deref().is_none_or(|p| e.description == p));
            for entry in entries.filter(|e| !e.baseline && !e.repeatable) {
                if tool == Tool::Pop {
                    let covered: Vec<&Migration> =
                        versioned.iter().copied().filter(|m| pop_applied(&entry.key, m)).collect();
                    if covered.is_empty() {
                        without_file.push(entry.key.clone());
                    }
                    applied.extend(covered);
                    continue;
                }
                if entry.failed {
                    problems.push(AdoptProblem::Failed {
                        tool,
                        table: foreign.table.clone(),
                        key: entry.key.clone(),
                        failure: entry.failure.clone(),
                    });
                    continue;
                }
                // (yoyo's rows name its Python steps by their ids, the file's name without `.py`.)
                let go = match tool {
                    Tool::Yoyo => set.unrunnable.iter().find(|u| file_stem(&u.path) == Some(entry.key.as_str())),
                    // (Theirs by file name: umzug's `.js` migrations.)
                    Tool::SlonikMigrator | Tool::Sequelize => set.unrunnable.iter().find(|u| u.file == entry.key),
                    _ => Version::parse(&entry.key).and_then(|v| set.find_unrunnable(&v)),
                };
                // node-pg-migrate's module of that name, postgres-migrations' of that number, beside
                // their SQL files.
                let module = match tool {
                    Tool::NodePgMigrate => {
                        set.code_migrations.iter().find(|c| file_stem(&c.path) == Some(entry.key.as_str()))
                    }
                    Tool::PostgresMigrations => set.code_migrations.iter().find(|c| {
                        let stem = file_stem(&c.path).unwrap_or_default();
                        let number = &stem[..stem.bytes().take_while(u8::is_ascii_digit).count()];
                        !number.is_empty() && Version::parse(number) == Version::parse(&entry.key)
                    }),
                    _ => None,
                };
                // A drizzle row its journal does not name is found by its hash.
                let by_hash = |m: &&&Migration| {
                    tool == Tool::Drizzle
                        && entry.checksum.as_deref().is_some_and(|c| applied_this(c, m, sha256_padded))
                };
                // A Sqitch change reworked later has a row per instance, each in the plan's order;
                // Liquibase's ids repeat from one changelog to the next.
                let taken = |m: &&&Migration| {
                    matches!(tool, Tool::Sqitch | Tool::Liquibase) && applied.iter().any(|a| std::ptr::eq(*a, **m))
                };
                let found = candidates.iter().find(|m| matches(tool, m, &entry.key) && !taken(m));
                // A `runOnChange` changeset edited since Liquibase ran it runs again at Liquibase's
                // next update: taken over as applied before the edit, so `up` runs it again too
                // (re-check: taken over as it is now, its edit never ran).
                let edited_to_rerun = |m: &Migration| {
                    tool == Tool::Liquibase
                        && m.rerun != crate::layout::Rerun::Never
                        && entry.checksum.as_deref().is_some_and(|recorded| {
                            recorded.starts_with("9:")
                                && m.liquibase_checksum.as_deref().is_some_and(|now| now != recorded)
                        })
                };
                match found.or_else(|| versioned.iter().find(by_hash)) {
                    Some(m) => {
                        if edited_to_rerun(m) {
                            rerun_edited.push(*m);
                        }
                        match (tool, &entry.checksum) {
                            // A Java migration ported to SQL since: the recorded checksum is the code's.
                            _ if entry.code.is_some() => {}
                            (Tool::Flyway, Some(recorded))
                                if *recorded != flyway_checksum(m.raw_text()).to_string() =>
                            {
                                problems.push(changed(&entry.key, m))
                            }
                            (Tool::PostgresMigrations, Some(recorded))
                                if *recorded != postgres_migrations_hash(&m.file, m.raw_text()) =>
                            {
                                problems.push(changed(&entry.key, m))
                            }
                            // (Of another checkout's line endings too, as sqlx's and drizzle's: review.)
                            // (None recorded for its JavaScript migrations: nothing to compare.)
                            (Tool::Postgrator, Some(recorded)) if !applied_this(recorded, m, md5_hex) => {
                                problems.push(changed(&entry.key, m))
                            }
                            (Tool::SlonikMigrator, Some(recorded))
                                if !applied_this(recorded, m, slonik_migrator_hash) =>
                            {
                                problems.push(changed(&entry.key, m))
                            }
                            (Tool::Pyway, Some(recorded)) if !applied_this(recorded, m, pyway_checksum) => {
                                problems.push(changed(&entry.key, m))
                            }
                            (Tool::Sqlx, Some(recorded)) if !applied_this(recorded, m, sqlx_checksum) => {
                                problems.push(changed(&entry.key, m))
                            }
                            (Tool::Drizzle, Some(recorded)) if !applied_this(recorded, m, sha256_padded) => {
                                problems.push(changed(&entry.key, m))
                            }
                            (Tool::GraphileMigrate, Some(recorded))
                                if graphile_hash(m.raw_text()).is_some_and(|hash| hash != *recorded) =>
                            {
                                problems.push(changed(&entry.key, m))
                            }
                            // (Sqitch's registry before 1.0 kept no hash: nothing to compare.)
                            (Tool::Sqitch, Some(recorded))
                                if !recorded.is_empty() && !applied_this(recorded, m, sqitch_script_hash) =>
                            {
                                problems.push(changed(&entry.key, m))
                            }
                            (Tool::Atlas, Some(recorded))
                                if !atlas_named && !atlas_hash(m, recorded.trim_start_matches("h1:")) =>
                            {
                                atlas_named = true;
                                problems.push(changed(&entry.key, m))
                            }
                            (Tool::Prisma, Some(recorded))
                                if !applied_this(recorded, m, |raw| sha256_checksum(raw, recorded.len() == 64)) =>
                            {
                                problems.push(changed(&entry.key, m))
                            }
                            // Liquibase's version 9 checksum where shale computes it (re-check: a
                            // changeset edited since Liquibase ran it was taken over); one that
                            // runs again when changed is taken over as it is now.
                            (Tool::Liquibase, Some(recorded))
                                if recorded.starts_with("9:")
                                    && m.rerun == crate::layout::Rerun::Never
                                    && m.liquibase_checksum.as_ref().is_some_and(|now| now != recorded) =>
                            {
                                problems.push(changed(&entry.key, m))
                            }
                            _ => {}
                        }
                        applied.push(*m)
                    }
                    None if go.is_some() => unrunnable.extend(go),
                    // Applied by node-pg-migrate, as the SQL files were (Node trial: `adopt` said
                    // no file had the version): recorded as applied, as code it ran.
                    None if module.is_some() => {
                        let module = module.expect("checked");
                        code.push(CodeMigration {
                            version: module.version.clone(),
                            version_text: module.version_text.clone(),
                            name: module.name.clone(),
                            class: module
                                .path
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default(),
                        })
                    }
                    None if entry.code.is_some() => match Version::parse(&entry.key) {
                        Some(version) => code.push(CodeMigration {
                            version,
                            version_text: entry.key.clone(),
                            name: code_name(entry),
                            class: entry.code.clone().unwrap_or_default(),
                        }),
                        None => problems.push(AdoptProblem::NoFile { tool, key: entry.key.clone() }),
                    },
                    None if tool == Tool::Goose && entry.key == "0" => {}
                    None if tool == Tool::Diesel && entry.key.chars().all(|c| c == '0') => {
                        notes.push(AdoptNote::DieselSetup)
                    }
                    None if baseline.as_ref().is_some_and(|b| Version::parse(&entry.key).is_some_and(|v| &v <= b)) => {}
                    None => problems.push(AdoptProblem::NoFile { tool, key: entry.key.clone() }),
                }
            }
            // A version with no file is passed over (with a note) only below one a file has: the
            // newest the tool applied must be here, or this is not the directory it ran.
            // It is recorded as applied with no file, as a Java migration is: a file of that
            // version written later counts as applied, not as one to run out of order.
            let newest = applied.iter().filter_map(|m| m.version.clone()).max();
            for key in without_file {
                match (Version::parse(&key), &newest) {
                    (Some(v), Some(newest)) if &v < newest => {
                        code.push(CodeMigration {
                            version: v,
                            version_text: key.clone(),
                            name: "no file".into(),
                            class: String::new(),
                        });
                        notes.push(AdoptNote::NoFileBefore { tool, key })
                    }
                    _ => problems.push(AdoptProblem::NoFile { tool, key }),
                }
            }
            if let Some(b) = &baseline {
                applied.extend(versioned.iter().copied().filter(|m| m.version.as_ref().is_some_and(|v| v <= b)));
            }
            // Once each (several rows may name one migration; one file may hold several).
            let mut seen = std::collections::HashSet::new();
            applied.retain(|m| seen.insert(std::ptr::from_ref::<Migration>(m)));
            applied.sort_by(|a, b| a.version.cmp(&b.version));
            applied
        }
    };
    if accepting.missing {
        problems.retain(|p| {
            let AdoptProblem::NoFile { tool, key } = p else { return true };
            let (version_text, name) = crate::layout::split_version(key, false).unwrap_or((key.clone(), String::new()));
            let Some(version) = Version::parse(&version_text).filter(|v| set.find(v).is_none()) else { return true };
            let name = if name.is_empty() { "no file".to_string() } else { name };
            code.push(CodeMigration { version, version_text, name, class: String::new() });
            notes.push(AdoptNote::MissingAccepted { tool: *tool, key: key.clone() });
            false
        });
    }
    if accepting.changed {
        problems.retain(|p| match p {
            AdoptProblem::Changed { tool, key, file, .. } => {
                notes.push(AdoptNote::ChangedAccepted { tool: *tool, key: key.clone(), file: file.clone() });
                false
            }
            _ => true,
        });
    }
    let (applied_repeatables, changed_repeatables) = repeatables_run(set, foreign, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    for m in &changed_repeatables {
        notes.push(AdoptNote::RepeatableChanged { tool, file: m.file.clone() });
    }
    let mut pending: Vec<&Migration> =
        versioned.iter().copied().filter(|m| !applied.iter().any(|a| std::ptr::eq(*a, *m))).collect();
    pending.extend(changed_repeatables);
    for u in set.unrunnable.iter().filter(|u| !unrunnable.iter().any(|a| a.file == u.file)) {
        notes.push(AdoptNote::GoPending { tool, file: u.file.clone() });
    }
    // (node-pg-migrate's modules are in the directory, as the old tool's code.)
    for c in code
        .iter()
        .filter(|c| !matches!(tool, Tool::Pop | Tool::NodePgMigrate | Tool::PostgresMigrations) && !c.class.is_empty())
    {
        notes.push(AdoptNote::Java {
            tool,
            version: c.version_text.clone(),
            class: c.class.clone(),
            port_to: format!("V{}__{}.sql", c.version_text.replace('.', "_"), c.name.replace(' ', "_")),
        });
    }
    // Written as its file writes it (`0006`, `1_27`), as `status` shows it.
    let version = applied
        .iter()
        .filter_map(|m| Some((m.version.as_ref()?, &m.version_text)))
        .chain(unrunnable.iter().map(|u| (&u.version, &u.version_text)))
        .chain(code.iter().map(|c| (&c.version, &c.version_text)))
        .max_by(|a, b| a.0.cmp(b.0))
        .map(|(_, text)| text.clone());
    Ok(Adoption {
        applied,
        applied_unrunnable: unrunnable,
        applied_code: code,
        applied_repeatables,
        version,
        pending,
        notes,
        rerun_edited,
    })
}

/// The name of a migration that ran from code: the class's name after its version, as Flyway
/// reads it (`V2__Backfill_parents` gives `Backfill parents`), else the tool's description.
fn code_name(entry: &ForeignEntry) -> String {
    let class = entry.code.as_deref().unwrap_or_default();
    let simple = class.rsplit(['.', '$']).next().unwrap_or(class);
    match simple.split_once("__") {
        Some((_, name)) if !name.is_empty() => name.replace('_', " "),
        _ if !entry.description.is_empty() => entry.description.clone(),
        _ => simple.to_string(),
    }
}

/// The repeatable migrations of `set` the tool last ran as they are now (its checksum of the file
/// is the one it recorded), and the others. Only Flyway keeps repeatables; for another tool every
/// repeatable is left to run. A repeatable whose last run failed is a problem, as a failed
/// versioned one is.
fn repeatables_run<'a>(
    set: &'a MigrationSet,
    foreign: &ForeignHistory,
    problems: &mut Vec<AdoptProblem>,
) -> (Vec<&'a Migration>, Vec<&'a Migration>) {
    let runs: Vec<&ForeignEntry> = match &foreign.state {
        ForeignState::Entries(entries) if foreign.tool == Tool::Flyway => {
            entries.iter().filter(|e| e.repeatable).collect()
        }
        _ => Vec::new(),
    };
    let file_name = |path: &str| path.rsplit('/').next().unwrap_or(path).to_string();
    let (mut ran, mut changed) = (Vec::new(), Vec::new());
    for m in set.migrations.iter().filter(|m| m.kind == crate::layout::MigrationKind::Repeatable) {
        // Flyway names the script under its location; the folder may differ from shale's --dir.
        let run = runs
            .iter()
            .find(|e| e.key == m.file)
            .or_else(|| runs.iter().find(|e| file_name(&e.key) == file_name(&m.file)));
        match run {
            Some(e) if e.failed => problems.push(AdoptProblem::Failed {
                tool: foreign.tool,
                table: foreign.table.clone(),
                key: e.key.clone(),
                failure: e.failure.clone(),
            }),
            // Flyway (6.3 on) checksums a repeatable after replacing its placeholders; before, as written.
            Some(e)
                if [&*m.up.text, m.raw_text()]
                    .iter()
                    .any(|text| e.checksum.as_deref() == Some(flyway_checksum(text).to_string().as_str())) =>
            {
                ran.push(m)
            }
            _ => changed.push(m),
        }
    }
    (ran, changed)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::layout::SourceFile;

    /// The migration of a file `1_a.sql` holding `text` as written.
    fn written(text: &str) -> Migration {
        let file = SourceFile { relative: PathBuf::from("1_a.sql"), bytes: text.as_bytes().to_vec() };
        MigrationSet::load(Path::new("m"), vec![file]).unwrap().migrations.remove(0)
    }

    fn set(names: &[&str]) -> MigrationSet {
        let files =
            names.iter().map(|n| SourceFile { relative: PathBuf::from(n), bytes: b"select 1;".to_vec() }).collect();
        MigrationSet::load(Path::new("m"), files).unwrap()
    }

    #[test]
    fn a_history_left_at_the_baseline_reads_back() {
        let reason = left_at_baseline_reason(Tool::Alembic, "public.alembic_version", "1 rows, md5 ab12");
        assert_eq!(left_at_baseline(&reason), Some((Tool::Alembic, "public.alembic_version", "1 rows, md5 ab12")));
        assert_eq!(left_at_baseline(&adopted_reason(Tool::Dbmate, "public.schema_migrations")), None);
    }

    #[test]
    fn a_fingerprint_sees_a_run_reverted_since_by_its_ids_and_writes() {
        let then = "3 rows, md5 ab, ids to 3, writes 3";
        assert!(same_fingerprint(then, then));
        // A run and its revert since: the rows as they were, ids given out and rows written.
        assert!(!same_fingerprint(then, "3 rows, md5 ab, ids to 4, writes 5"));
        // A crash or a failover: the sequence jumped ahead, the statistics began again.
        assert!(same_fingerprint(then, "3 rows, md5 ab, ids to 35, writes 0"));
        // A copy restored from a dump: the ids as they were, the rows written again.
        assert!(same_fingerprint(then, "3 rows, md5 ab, ids to 3, writes 3"));
        assert!(same_fingerprint("3 rows, md5 ab, ids to 3, writes 0", "3 rows, md5 ab, ids to 3, writes 3"));
        // No sequence: the rows alone.
        assert!(same_fingerprint("1 rows, md5 ab, writes 1", "1 rows, md5 ab, writes 7"));
        assert!(!same_fingerprint("1 rows, md5 ab, writes 1", "1 rows, md5 cd, writes 2"));
        // Recorded before fingerprints said them: the rows alone.
        assert!(same_fingerprint("3 rows, md5 ab", "3 rows, md5 ab, ids to 4, writes 9"));
        assert!(!same_fingerprint("3 rows, md5 ab", "4 rows, md5 cd, ids to 4, writes 9"));
    }

    fn entries(tool: Tool, keys: &[&str]) -> ForeignHistory {
        ForeignHistory {
            tool,
            table: "public.t".into(),
            state: ForeignState::Entries(
                keys.iter().map(|k| ForeignEntry { key: k.to_string(), ..Default::default() }).collect(),
            ),
        }
    }

    fn labels(ms: &[&Migration]) -> Vec<String> {
        ms.iter().map(|m| m.label()).collect()
    }

    #[test]
    fn an_adopted_rows_reason_names_its_tool() {
        for tool in Tool::ALL {
            assert_eq!(adopted_from(&adopted_reason(tool, "public.t")), Some(tool));
        }
        assert_eq!(adopted_from("restored by hand"), None);
    }

    #[test]
    fn pop_s_rows_are_versions_as_written_and_its_older_rows_their_first_14_digits() {
        let files = set(&[
            "20150100000001000000_networks.postgres.up.sql",
            "20191100000001000000_identities.up.sql",
            "20191100000001000001_identities.up.sql",
            "20251105000000000003_not_null.up.sql",
            "20260101000000000000_later.up.sql",
        ]);
        let history = |keys: &[&str]| entries(Tool::Pop, keys);
        // A row pop wrote before Ory's versions grew to 20 digits covers every version it begins;
        // a row popx wrote for a migration of Go code (no file) is noted, being older than one a
        // file has.
        let adoption = plan_adoption(
            &files,
            &history(&["20150100000001000000", "20191100000001", "20251105000000000001", "20251105000000000003"]),
        )
        .unwrap();
        assert_eq!(
            labels(&adoption.applied),
            [
                "20150100000001000000 networks",
                "20191100000001000000 identities",
                "20191100000001000001 identities",
                "20251105000000000003 not_null"
            ]
        );
        assert_eq!(labels(&adoption.pending), ["20260101000000000000 later"]);
        assert_eq!(adoption.version.as_deref(), Some("20251105000000000003"));
        assert_eq!(adoption.notes, [AdoptNote::NoFileBefore { tool: Tool::Pop, key: "20251105000000000001".into() }]);
        // Recorded as applied with no file, so that a file of it written later is not run.
        assert_eq!(adoption.applied_code.len(), 1);
        assert_eq!(adoption.applied_code[0].version_text, "20251105000000000001");
        let reason = adopted_code_reason(Tool::Pop, "public.schema_migration", "");
        assert!(adopted_without_file(&reason) && adopted_code(&reason).is_none(), "{reason}");
        // The newest row with no file: not the directory pop ran, or a file is missing.
        let problems = plan_adoption(&files, &history(&["20150100000001000000", "20270101000000000000"])).unwrap_err();
        assert!(matches!(&problems[..], [AdoptProblem::NoFile { key, .. }] if key == "20270101000000000000"));
        assert_eq!(Tool::parse("popx"), Some(Tool::Pop));
        assert_eq!(Tool::recognize("schema_migration", &["version".into(), "version_self".into()]), Some(Tool::Pop));
    }

    #[test]
    fn golang_migrate_counts_everything_up_to_its_version() {
        let files = set(&["1_a.up.sql", "1_a.down.sql", "2_b.up.sql", "10_c.up.sql"]);
        let at = |version: Option<i64>, dirty: bool| ForeignHistory {
            tool: Tool::GolangMigrate,
            table: "public.schema_migrations".into(),
            state: ForeignState::Current { version, dirty },
        };
        let adoption = plan_adoption(&files, &at(Some(2), false)).unwrap();
        assert_eq!(labels(&adoption.applied), ["1 a", "2 b"]);
        assert_eq!(labels(&adoption.pending), ["10 c"]);
        assert_eq!(adoption.version.as_deref(), Some("2"));
        assert!(plan_adoption(&files, &at(None, false)).unwrap().applied.is_empty());
        let dirty = plan_adoption(&files, &at(Some(2), true)).unwrap_err();
        assert!(dirty[0].to_string().contains("marks version 2 dirty"), "{}", dirty[0]);
        // Not completed, it is forced back to the file before it (versions have gaps), or to
        // golang-migrate's "no version" before the first.
        let before = |version: i64| match &plan_adoption(&files, &at(Some(version), true)).unwrap_err()[0] {
            AdoptProblem::Dirty { before, .. } => *before,
            other => panic!("{other}"),
        };
        assert_eq!((before(10), before(2), before(1)), (2, 1, -1));
        assert!(matches!(plan_adoption(&files, &at(Some(7), false)).unwrap_err()[0], AdoptProblem::NoFile { .. }));
    }

    #[test]
    fn each_tool_s_keys_match_its_files() {
        let diesel = set(&[
            "2017-09-23-182408_users/up.sql",
            "2024-01-01-000000-0000_more/up.sql",
            "2025-01-01-000000_x/up.sql",
        ]);
        let found =
            plan_adoption(&diesel, &entries(Tool::Diesel, &["00000000000000", "20170923182408", "202401010000000000"]));
        let adoption = found.unwrap();
        assert_eq!(labels(&adoption.applied), ["2017-09-23-182408 users", "2024-01-01-000000-0000 more"]);
        assert_eq!(adoption.notes.len(), 1);

        let dbmate = set(&["20200101120000_a.sql", "20200102120000_b.sql"]);
        assert_eq!(
            labels(&plan_adoption(&dbmate, &entries(Tool::Dbmate, &["20200101120000"])).unwrap().applied),
            ["20200101120000 a"]
        );

        let goose = set(&["00001_a.sql", "00002_b.sql"]);
        assert_eq!(
            labels(&plan_adoption(&goose, &entries(Tool::Goose, &["0", "1", "2"])).unwrap().applied),
            ["00001 a", "00002 b"]
        );

        let flyway = set(&["V1__init.sql", "V1_1__more.sql", "V2__later.sql", "R__views.sql"]);
        let adoption = plan_adoption(&flyway, &entries(Tool::Flyway, &["1", "1.1"])).unwrap();
        assert_eq!(labels(&adoption.applied), ["1 init", "1_1 more"]);
        assert_eq!(labels(&adoption.pending), ["2 later", "R__views"], "a repeatable Flyway never ran is left to run");

        let node = set(&["1600000000000_create-users.sql", "1600000000001_more.sql"]);
        let adoption = plan_adoption(&node, &entries(Tool::NodePgMigrate, &["1600000000000_create-users"])).unwrap();
        assert_eq!(labels(&adoption.applied), ["1600000000000 create-users"]);

        // sql-migrate: by file name.
        let gorp = set(&["1_init.sql", "2_more.sql", "10_later.sql"]);
        let adoption = plan_adoption(&gorp, &entries(Tool::SqlMigrate, &["1_init.sql", "2_more.sql"])).unwrap();
        assert_eq!(labels(&adoption.applied), ["1 init", "2 more"]);
        assert_eq!(labels(&adoption.pending), ["10 later"]);
        let gorp_columns: Vec<String> = vec!["id".into(), "applied_at".into()];
        assert_eq!(Tool::recognize("gorp_migrations", &gorp_columns), Some(Tool::SqlMigrate));
        // Under the name its config gives, by its columns, where the name says migrations.
        assert_eq!(Tool::recognize("sdp_migrations", &gorp_columns), Some(Tool::SqlMigrate));
        assert_eq!(Tool::recognize("events", &gorp_columns), None);

        // morph (Mattermost's): a row per applied version of golang-migrate's files.
        let morph = set(&["000001_create_teams.up.sql", "000002_create_users.up.sql", "000003_more.up.sql"]);
        let adoption = plan_adoption(&morph, &entries(Tool::Morph, &["1", "2"])).unwrap();
        assert_eq!(labels(&adoption.applied), ["000001 create_teams", "000002 create_users"]);
        assert_eq!(labels(&adoption.pending), ["000003 more"]);
        let morph_columns: Vec<String> = vec!["version".into(), "name".into()];
        assert_eq!(Tool::recognize("db_migrations", &morph_columns), Some(Tool::Morph));
        assert_eq!(Tool::parse("mattermost"), Some(Tool::Morph));
    }

    #[test]
    fn a_flyway_repeatable_last_run_as_it_is_now_is_adopted_and_a_changed_one_is_left_to_run() {
        let flyway = set(&["V1__init.sql", "R__data.sql", "R__views.sql", "R__new.sql"]);
        let run = |key: &str, checksum: i32, failed: bool| ForeignEntry {
            key: key.into(),
            failed,
            checksum: Some(checksum.to_string()),
            repeatable: true,
            ..Default::default()
        };
        let same = flyway_checksum("select 1;");
        let mut history = entries(Tool::Flyway, &["1"]);
        if let ForeignState::Entries(e) = &mut history.state {
            // Flyway names it under its location's folder; shale's directory may be that folder.
            e.push(run("sql/R__data.sql", same, false));
            e.push(run("R__views.sql", same.wrapping_add(1), false));
        }
        let adoption = plan_adoption(&flyway, &history).unwrap();
        assert_eq!(labels(&adoption.applied_repeatables), ["R__data"]);
        assert_eq!(labels(&adoption.pending), ["R__new", "R__views"]);
        assert!(
            adoption.notes.iter().any(|n| n.to_string().starts_with("R__views.sql changed since flyway last ran it")),
            "{:?}",
            adoption.notes
        );
        if let ForeignState::Entries(e) = &mut history.state {
            e.push(run("R__new.sql", same, true));
        }
        let problems = plan_adoption(&flyway, &history).unwrap_err();
        assert!(matches!(&problems[0], AdoptProblem::Failed { key, .. } if key == "R__new.sql"), "{problems:?}");
        assert!(problems[0].hint().unwrap().contains("`flyway repair`"), "{:?}", problems[0].hint());
    }

    #[test]
    fn a_flyway_java_migration_is_taken_over_with_no_file() {
        let flyway = set(&["V1__init.sql", "V3__name.sql", "V4__later.sql"]);
        let mut history = entries(Tool::Flyway, &["1", "3"]);
        if let ForeignState::Entries(e) = &mut history.state {
            e.insert(
                1,
                ForeignEntry {
                    key: "2".into(),
                    code: Some("com.example.db.migration.V2__Backfill_parents".into()),
                    checksum: Some("42".into()),
                    ..Default::default()
                },
            );
        }
        let adoption = plan_adoption(&flyway, &history).unwrap();
        assert_eq!(labels(&adoption.applied), ["1 init", "3 name"]);
        assert_eq!(adoption.applied_code.len(), 1);
        assert_eq!(adoption.applied_code[0].name, "Backfill parents");
        assert_eq!(adoption.version.as_deref(), Some("3"));
        assert_eq!(labels(&adoption.pending), ["4 later"]);
        assert!(
            adoption.notes[0].to_string().contains("port it to SQL as V2__Backfill_parents.sql"),
            "{:?}",
            adoption.notes
        );
        let reason = adopted_code_reason(Tool::Flyway, "public.t", &adoption.applied_code[0].class);
        assert_eq!(adopted_code(&reason), Some("com.example.db.migration.V2__Backfill_parents"));
        assert_eq!(adopted_from(&reason), Some(Tool::Flyway));
        assert_eq!(adopted_code(&adopted_reason(Tool::Flyway, "public.t")), None);
        // Ported to SQL since: the file is adopted, and the code's checksum is not compared with it.
        let ported = set(&["V1__init.sql", "V2__backfill_parents.sql", "V3__name.sql"]);
        let adoption = plan_adoption(&ported, &history).unwrap();
        assert_eq!(labels(&adoption.applied), ["1 init", "2 backfill_parents", "3 name"]);
        assert!(adoption.applied_code.is_empty());
    }

    #[test]
    fn a_file_sqlx_applied_and_changed_since_is_refused_with_sqlx_s_way_out() {
        let files = set(&["1_a.sql"]);
        let with = |checksum: String| ForeignHistory {
            tool: Tool::Sqlx,
            table: "public._sqlx_migrations".into(),
            state: ForeignState::Entries(vec![ForeignEntry {
                key: "1".into(),
                checksum: Some(checksum),
                ..Default::default()
            }]),
        };
        assert_eq!(
            labels(&plan_adoption(&files, &with(sqlx_checksum("select 1;").to_uppercase())).unwrap().applied),
            ["1 a"]
        );
        // Applied from a file with a byte order mark, or CRLF line endings: shale reads it without.
        assert!(applied_this(&sqlx_checksum("\u{feff}select 1;"), &written("select 1;"), sqlx_checksum));
        assert!(applied_this(&sqlx_checksum("a;\r\nb;\r\n"), &written("a;\nb;\n"), sqlx_checksum));
        // Or checked out with the other line endings since.
        assert!(applied_this(&sqlx_checksum("a;\nb;\n"), &written("a;\r\nb;\r\n"), sqlx_checksum));
        // Mixed line endings, as the file is written (atuin's history): its bytes are what was hashed.
        let mixed = "create table t (id int);\r\nselect 1;\n";
        assert!(applied_this(&sqlx_checksum(mixed), &written(mixed), sqlx_checksum));
        assert!(!applied_this(&sqlx_checksum(mixed), &written("create table t (id int);\nselect 2;\n"), sqlx_checksum));
        let problems = plan_adoption(&files, &with(sqlx_checksum("select 2;"))).unwrap_err();
        assert!(matches!(&problems[0], AdoptProblem::Changed { key, .. } if key == "1"), "{problems:?}");
        let hint = problems[0].hint().unwrap();
        assert!(hint.contains("sqlx itself refuses") && !hint.contains("flyway"), "{hint}");
    }

    #[test]
    fn alembic_is_recognized_and_its_history_is_not_taken_over() {
        let columns = vec!["version_num".to_string()];
        assert_eq!(Tool::recognize("alembic_version", &columns), Some(Tool::Alembic));
        let history = ForeignHistory {
            tool: Tool::Alembic,
            table: "public.alembic_version".into(),
            state: ForeignState::Entries(Vec::new()),
        };
        let problems = plan_adoption(&set(&["0001_a.sql"]), &history).unwrap_err();
        assert!(matches!(problems[0], AdoptProblem::NotSql { .. }), "{problems:?}");
        assert!(problems[0].to_string().ends_with("so public.alembic_version cannot be taken over"), "{}", problems[0]);
        let hint = problems[0].hint().unwrap();
        assert!(hint.contains("from the live schema") && hint.contains("public.alembic_version left out"), "{hint}");
        assert!(!format!("{} {hint}", problems[0]).contains("`shale"), "no command names: {hint}");
    }

    #[test]
    fn rails_is_told_from_dbmate_by_the_table_beside_its_history_and_django_by_its_columns() {
        let version = vec!["version".to_string()];
        let dbmate = Tool::recognize("schema_migrations", &version).unwrap();
        assert_eq!(dbmate, Tool::Dbmate);
        assert_eq!(dbmate.told_apart("public", |t| t == "ar_internal_metadata"), Tool::Rails);
        assert_eq!(dbmate.told_apart("public", |t| t == "users"), Tool::Dbmate);
        assert_eq!(Tool::Rails.companions(), ["ar_internal_metadata"]);
        let columns: Vec<String> = ["id", "app", "name", "applied"].map(String::from).to_vec();
        assert_eq!(Tool::recognize("django_migrations", &columns), Some(Tool::Django));
        assert_eq!(Tool::parse("activerecord"), Some(Tool::Rails));
        assert_eq!(
            Tool::listed(&Tool::with_code_migrations(), "or"),
            "alembic, django, rails, ecto, knex, typeorm, sequelize, mikro-orm, kysely, liquibase, laravel, \
             doctrine, phinx, ef-core, yoyo, aerich, piccolo, peewee-migrate, sea-orm, ley or sequel"
        );
        assert_eq!(Tool::listed(&[Tool::Goose, Tool::Sqlx], "and"), "goose and sqlx");
        assert_eq!(Tool::listed(&[Tool::Goose], "and"), "goose");
        for tool in [Tool::Rails, Tool::Django, Tool::Alembic] {
            assert!(!tool.migrations_are_sql(), "{tool}");
        }
        assert!(Tool::ALL.iter().filter(|t| t.migrations_are_sql()).count() == 26);
    }

    /// A table named with `--from` and `--table` is the tool's where its columns are: exactly
    /// another tool's are not, but for tools that keep the same ones.
    #[test]
    fn a_named_table_keeps_a_tool_s_history_by_its_columns() {
        let columns = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let postgrator = columns(&["version", "name", "md5", "run_at"]);
        assert!(Tool::Postgrator.keeps_history_in("public", "schemaversion", &postgrator));
        assert!(!Tool::Dbmate.keeps_history_in("public", "schemaversion", &postgrator));
        assert!(!Tool::Tern.keeps_history_in("public", "schemaversion", &postgrator));
        let version = columns(&["version"]);
        assert!(Tool::Tern.keeps_history_in("public", "my_versions", &version));
        assert!(Tool::Pop.keeps_history_in("public", "auth_versions", &version));
        let node = columns(&["id", "name", "run_on"]);
        assert!(Tool::DbMigrate.keeps_history_in("public", "dbm_log", &node));
        assert!(!Tool::Dbmate.keeps_history_in("public", "dbm_log", &node));
        assert!(!Tool::Tern.keeps_history_in("public", "other_hist", &columns(&["version", "name", "note"])));
        // Sequelize's `SequelizeMeta (name)`, under another name: that one column, not any `name`.
        assert!(Tool::Sequelize.keeps_history_in("public", "seq_meta", &columns(&["name"])));
        assert!(Tool::Sequelize.keeps_history_in(
            "public",
            "SequelizeMeta",
            &columns(&["name", "createdAt", "updatedAt"])
        ));
        assert!(!Tool::Sequelize.keeps_history_in("public", "app_log", &columns(&["name", "note", "at"])));
        assert!(Tool::SlonikMigrator.keeps_history_in("public", "mig", &columns(&["name", "hash", "date"])));
    }

    /// The tools whose migrations are JavaScript, TypeScript, Elixir or Liquibase changelogs, by
    /// their tables' names and columns: Ecto's `schema_migrations` is told from dbmate's by its
    /// `inserted_at`; TypeORM's `migrations` from drizzle's under that name by its columns.
    #[test]
    fn code_migration_tools_are_recognized_by_their_tables() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases = [
            ("schema_migrations", cols(&["version", "inserted_at"]), Tool::Ecto),
            ("knex_migrations", cols(&["id", "name", "batch", "migration_time"]), Tool::Knex),
            ("migrations", cols(&["id", "timestamp", "name"]), Tool::TypeOrm),
            ("SequelizeMeta", cols(&["name"]), Tool::Sequelize),
            ("mikro_orm_migrations", cols(&["id", "name", "executed_at"]), Tool::MikroOrm),
            ("kysely_migration", cols(&["name", "timestamp"]), Tool::Kysely),
            (
                "databasechangelog",
                cols(&["id", "author", "filename", "dateexecuted", "orderexecuted"]),
                Tool::Liquibase,
            ),
            ("migrations", cols(&["id", "migration", "batch"]), Tool::Laravel),
            ("doctrine_migration_versions", cols(&["version", "executed_at", "execution_time"]), Tool::Doctrine),
            ("phinxlog", cols(&["version", "migration_name", "start_time", "end_time", "breakpoint"]), Tool::Phinx),
            ("__EFMigrationsHistory", cols(&["MigrationId", "ProductVersion"]), Tool::EfCore),
        ];
        for (table, columns, tool) in cases {
            assert_eq!(Tool::recognize(table, &columns), Some(tool), "{table}");
            assert_eq!(tool.default_table(), table);
            assert!(!tool.migrations_are_sql(), "{tool}");
            assert_eq!(Tool::parse(tool.as_str()), Some(tool));
            // `--json` names it as the messages do (TypeORM trial: "type-orm" beside "typeorm").
            assert_eq!(serde_json::to_value(tool).unwrap(), tool.as_str());
        }
        assert_eq!(Tool::recognize("migrations", &cols(&["id", "hash", "created_at"])), Some(Tool::Drizzle));
        assert_eq!(Tool::recognize("schema_migrations", &cols(&["version"])), Some(Tool::Dbmate));
        // An application's own table named `migrations` (TypeORM trial): no tool's.
        let own = cols(&["id", "name", "timestamp", "source_host", "target_host", "status"]);
        assert_eq!(Tool::recognize("migrations", &own), None);
        assert_eq!(Tool::recognize("migrations", &cols(&["id", "migration", "batch", "host"])), None);
        assert_eq!(Tool::parse("phoenix"), Some(Tool::Ecto));
        assert_eq!(Tool::Knex.companions(), ["knex_migrations_lock"]);
        // Under the name a project's configuration gives (Flyway trial: Spring's
        // `spring.flyway.table`), by the tool's own columns.
        let flyway = cols(&[
            "installed_rank",
            "version",
            "description",
            "type",
            "script",
            "checksum",
            "installed_by",
            "installed_on",
            "execution_time",
            "success",
        ]);
        assert_eq!(Tool::recognize("ef_history", &flyway), Some(Tool::Flyway));
        let goose = cols(&["id", "version_id", "is_applied", "tstamp"]);
        assert_eq!(Tool::recognize("app_db_version", &goose), Some(Tool::Goose));
        let bun = cols(&["id", "name", "group_id", "migrated_at"]);
        assert_eq!(Tool::recognize("bun_migrations", &bun), Some(Tool::Bun));
        assert_eq!(Tool::recognize("schema_history", &bun), Some(Tool::Bun));
        assert_eq!(Tool::recognize("app_migrations", &cols(&["version", "dirty"])), Some(Tool::GolangMigrate));
        assert_eq!(Tool::recognize("tenant_alembic", &cols(&["version_num"])), Some(Tool::Alembic));
        // peewee-migrate's and SeaORM's few columns, under a name that says migrations or their
        // own; an application's table of those columns is its own (review).
        let peewee = cols(&["id", "name", "migrated_at"]);
        assert_eq!(Tool::recognize("migratehistory", &peewee), Some(Tool::PeeweeMigrate));
        assert_eq!(Tool::recognize("app_migrations", &peewee), Some(Tool::PeeweeMigrate));
        assert_eq!(Tool::recognize("migrated_accounts", &peewee), None);
        assert_eq!(Tool::recognize("app_migratehistory", &peewee), Some(Tool::PeeweeMigrate));
        let sea_orm = cols(&["version", "applied_at"]);
        assert_eq!(Tool::recognize("seaql_migrations", &sea_orm), Some(Tool::SeaOrm));
        assert_eq!(Tool::recognize("app_migrations", &sea_orm), Some(Tool::SeaOrm));
        assert_eq!(Tool::recognize("releases", &sea_orm), None);
        // Too little said by a lone `version`, or by columns one short of a tool's.
        assert_eq!(Tool::recognize("app_versions", &cols(&["version"])), None);
        assert_eq!(Tool::recognize("ef_history", &flyway[..9]), None);
    }

    #[test]
    fn a_flyway_baseline_covers_what_is_below_it() {
        let flyway = set(&["V1__a.sql", "V2__b.sql", "V3__c.sql"]);
        let mut history = entries(Tool::Flyway, &["3"]);
        if let ForeignState::Entries(e) = &mut history.state {
            e.push(ForeignEntry { key: "2".into(), baseline: true, ..Default::default() });
        }
        assert_eq!(labels(&plan_adoption(&flyway, &history).unwrap().applied), ["1 a", "2 b", "3 c"]);
    }

    #[test]
    fn doubt_and_holes_are_refused_together() {
        let files = set(&["1_a.sql", "2_b.sql"]);
        let mut history = entries(Tool::Sqlx, &["1", "9"]);
        if let ForeignState::Entries(e) = &mut history.state {
            e.push(ForeignEntry { key: "2".into(), failed: true, ..Default::default() });
        }
        let problems = plan_adoption(&files, &history).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().any(|p| matches!(p, AdoptProblem::NoFile { key, .. } if key == "9")));
        assert!(problems.iter().any(|p| matches!(p, AdoptProblem::Failed { key, .. } if key == "2")));
    }

    /// Atlas's hashes (atlas.sum's) run through the files in name order; `atlas:sum ignore` adds
    /// a file's name only.
    #[test]
    fn atlas_hashes_run_through_the_files() {
        let files = |second: &str| {
            let files = [("1_a.sql", "select 1;\n"), ("2_b.sql", second), ("3_c.sql", "select 3;\n")]
                .map(|(n, t)| SourceFile { relative: PathBuf::from(n), bytes: t.as_bytes().to_vec() });
            MigrationSet::load(Path::new("m"), files.to_vec()).unwrap()
        };
        let set = files("select 2;\n");
        let hashes = atlas_hashes(&set);
        // Python's hashlib over "1_a.sql" "select 1;\n" "2_b.sql" ..., base64 after each.
        assert_eq!(
            hashes,
            [
                ("1_a.sql", "0xoiBEBByCn3Qg4/3ZN3bzJGTBHXJNbUIxA6ZttFvio=".to_string()),
                ("2_b.sql", "OOAg7AcKDOcuXuzka2wmvCrSkMj4OAV71gKeWYA49k8=".to_string()),
                ("3_c.sql", "ZgYJb1pMSLp3at8pWX0c6uY0JK2OtzzJXwI1N74FPSY=".to_string()),
            ]
        );
        let edited = files("select 22;\n");
        let after = atlas_hashes(&edited);
        assert_eq!(after[0], hashes[0]);
        assert!(after[1] != hashes[1] && after[2] != hashes[2]);
        // A file added below the applied ones since (a branch merged late): each applied file's
        // hash as Atlas recorded it is found without it.
        let load = |names: &[&str]| {
            let files = names.iter().map(|n| SourceFile { relative: PathBuf::from(n), bytes: n.as_bytes().to_vec() });
            MigrationSet::load(Path::new("m"), files.collect()).unwrap()
        };
        let applied = load(&["10_a.sql", "20_b.sql", "30_c.sql"]);
        let entries = atlas_hashes(&applied)
            .into_iter()
            .map(|(file, hash)| ForeignEntry {
                key: file.split('_').next().unwrap().to_string(),
                checksum: Some(hash),
                ..Default::default()
            })
            .collect();
        let history = ForeignHistory { tool: Tool::Atlas, table: "t".into(), state: ForeignState::Entries(entries) };
        let now = load(&["10_a.sql", "15_late.sql", "20_b.sql", "30_c.sql"]);
        assert_eq!(plan_adoption(&now, &history).map(|a| a.applied.len()).map_err(|p| format!("{p:?}")), Ok(3));
        let ignored = files("-- atlas:sum ignore\nselect 2;\n");
        assert_eq!(atlas_hashes(&ignored).len(), 2);
        // The sum heading atlas.sum: SHA-256 over each file's name and hash.
        assert_eq!(
            atlas_sum(&set).lines().collect::<Vec<_>>(),
            [
                "h1:2Olpk/K4/pF5GIJAGYw+0hRKcvHaGDbDcc/aFgRJBac=",
                "1_a.sql h1:0xoiBEBByCn3Qg4/3ZN3bzJGTBHXJNbUIxA6ZttFvio=",
                "2_b.sql h1:OOAg7AcKDOcuXuzka2wmvCrSkMj4OAV71gKeWYA49k8=",
                "3_c.sql h1:ZgYJb1pMSLp3at8pWX0c6uY0JK2OtzzJXwI1N74FPSY=",
            ]
        );
    }

    /// Prisma's own vector (SHA-256 of "hello"), and the unpadded form of its early rows.
    #[test]
    fn slonik_migrator_hashes_as_it_does() {
        // What @slonik/migrator 0.12 computes (Node's MD5 of the trimmed text, white space squeezed).
        let text = "create table users (id int);\r\n\n  insert into x values (1);\n";
        assert_eq!(slonik_migrator_hash(text), "d8aee38ce0");
        assert_eq!(slonik_migrator_hash(&text.replace("\r\n", "\n")), "d8aee38ce0");
        assert_eq!(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn prisma_checksums() {
        assert_eq!(sha256_checksum("hello", true), "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(sha256_checksum("hello", false), "2cf24dba5fb0a3e26e83b2ac5b9e29e1b161e5c1fa7425e7343362938b9824");
        assert!(applied_this(&sha256_checksum("a\r\nb\r\n", true), &written("a\nb\n"), |raw| sha256_checksum(
            raw, true
        )));
    }

    #[test]
    fn flyway_checksums_ignore_line_endings() {
        // Known value: Flyway's checksum of a one-line script `select 1;`.
        let crc = flyway_checksum("select 1;\n");
        assert_eq!(crc, flyway_checksum("select 1;"), "the last line ending does not count");
        assert_eq!(crc, flyway_checksum("\u{feff}select 1;\r\n"));
        assert_ne!(crc, flyway_checksum("select 2;\n"));
        assert_eq!(crc as u32, crc32fast::hash(b"select 1;"));
        // Old Mac line endings (a lone \r), also as the last byte: Java reads them as line breaks.
        let two = flyway_checksum("select 1;\nselect 2;\n");
        assert_eq!(two, flyway_checksum("select 1;\rselect 2;\r"));
        assert_eq!(two, flyway_checksum("select 1;\r\n\r\nselect 2;"));
        assert_eq!(two as u32, crc32fast::hash(b"select 1;select 2;"));
    }

    #[test]
    fn tables_are_recognized_by_name_and_columns() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Tool::recognize("schema_migrations", &cols(&["version", "dirty"])), Some(Tool::GolangMigrate));
        assert_eq!(Tool::recognize("schema_migrations", &cols(&["version"])), Some(Tool::Dbmate));
        assert_eq!(
            Tool::recognize("schema_version", &cols(&["installed_rank", "version", "success"])),
            Some(Tool::Flyway)
        );
        assert_eq!(Tool::recognize("schema_version", &cols(&["version"])), Some(Tool::Tern));
        assert_eq!(Tool::recognize("schema_version", &cols(&["version", "note"])), None);
        assert_eq!(Tool::parse("Golang-Migrate"), Some(Tool::GolangMigrate));
        // node-pg-migrate's under another name, where the name says it holds migrations; an
        // application's table of the same columns is its own (review).
        let node = cols(&["id", "name", "run_on"]);
        assert_eq!(Tool::recognize("migrations", &node), Some(Tool::NodePgMigrate));
        assert_eq!(Tool::recognize("jobs", &node), None);
        let yoyo = cols(&["migration_hash", "migration_id", "applied_at_utc"]);
        assert_eq!(Tool::recognize("_yoyo_migration", &yoyo), Some(Tool::Yoyo));
        assert_eq!(Tool::recognize("app_yoyo", &yoyo), Some(Tool::Yoyo));
    }

    /// Hasura's, Sqitch's and graphile-migrate's tables, each in the schema the tool keeps for
    /// itself; Hasura's older table, golang-migrate's columns, told apart by that schema.
    #[test]
    fn tools_with_a_schema_of_their_own() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let golang = Tool::recognize("schema_migrations", &cols(&["version", "dirty"])).unwrap();
        assert_eq!(golang.told_apart("hdb_catalog", |_| false), Tool::Hasura);
        assert_eq!(golang.told_apart("public", |_| false), Tool::GolangMigrate);
        let hdb = cols(&["hasura_uuid", "version", "upgraded_on", "cli_state", "console_state"]);
        assert_eq!(Tool::recognize("hdb_version", &hdb), Some(Tool::Hasura));
        let sqitch = cols(&["change_id", "script_hash", "change", "project", "note", "committed_at"]);
        assert_eq!(Tool::recognize("changes", &sqitch), Some(Tool::Sqitch));
        assert_eq!(Tool::recognize("changes", &cols(&["id", "change"])), None);
        let graphile = cols(&["hash", "previous_hash", "filename", "date"]);
        assert_eq!(Tool::recognize("migrations", &graphile), Some(Tool::GraphileMigrate));
        assert_eq!(Tool::parse("graphile"), Some(Tool::GraphileMigrate));
        for tool in [Tool::Hasura, Tool::Sqitch, Tool::GraphileMigrate] {
            assert!(tool.own_schema().is_some() && !tool.history_beside_migrations(), "{tool}");
            assert!(tool.migrations_are_sql(), "{tool}");
        }
    }

    /// Sqitch's rows name changes; of several projects in one registry, the one whose changes
    /// the files have is taken over. graphile-migrate's name files.
    #[test]
    fn sqitch_changes_and_graphile_files() {
        let sqitch = set(&["1_appschema.sql", "2_users.sql", "3_flips.sql"]);
        let row = |project: &str, change: &str| ForeignEntry {
            key: change.into(),
            description: project.into(),
            ..Default::default()
        };
        let history = ForeignHistory {
            tool: Tool::Sqitch,
            table: "sqitch.changes".into(),
            state: ForeignState::Entries(vec![
                row("other", "accounts"),
                row("flipr", "appschema"),
                row("flipr", "users"),
                row("other", "ledger"),
            ]),
        };
        let adoption = plan_adoption(&sqitch, &history).unwrap();
        assert_eq!(labels(&adoption.applied), ["1 appschema", "2 users"]);
        assert_eq!(labels(&adoption.pending), ["3 flips"]);

        let graphile = set(&["000001.sql", "000002.sql", "000003.sql"]);
        let adoption =
            plan_adoption(&graphile, &entries(Tool::GraphileMigrate, &["000001.sql", "000002.sql"])).unwrap();
        assert_eq!(adoption.applied.len(), 2);
        assert_eq!(adoption.pending.len(), 1);

        // `commit --message` names the file, not the row (the graphile trial: refused as missing).
        let named = set(&["000001.sql", "000002-add-users.sql", "000003-lookup_groups.sql"]);
        let adoption = plan_adoption(&named, &entries(Tool::GraphileMigrate, &["000001.sql", "000002.sql"])).unwrap();
        assert_eq!(labels(&adoption.applied), ["000001", "000002 add-users"]);
        assert_eq!(labels(&adoption.pending), ["000003 lookup_groups"]);
    }
}
