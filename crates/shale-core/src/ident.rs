//! SQL identifiers, the one implementation in the workspace, in two forms: [`ident`] and
//! [`qualified`] bare when that reads back as the same name, else quoted (the SQL people read: dumps,
//! diffs, lint fixes); [`ident_always_quoted`] and [`qualified_always_quoted`] always in double
//! quotes (the SQL shale sends itself: no keyword list to keep in step with the server).

/// Keywords that cannot be used as a bare identifier everywhere (sorted: searched by bisection) (PostgreSQL's reserved,
/// type/function-name and column-name keywords). Unreserved keywords need no quotes.
#[rustfmt::skip]
const KEYWORDS: &[&str] = &[
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between", "bigint",
    "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce", "collate",
    "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date",
    "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "dec", "decimal", "default",
    "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float",
    "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in",
    "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "json",
    "json_array", "json_arrayagg", "json_exists", "json_object", "json_objectagg", "json_query", "json_scalar",
    "json_serialize", "json_table", "json_value", "lateral", "leading", "least", "left", "like", "limit", "localtime",
    "localtimestamp", "merge_action", "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null",
    "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay", "placing",
    "position", "precision", "primary", "real", "references", "returning", "right", "row", "select", "session_user",
    "setof", "similar", "smallint", "some", "substring", "symmetric", "system_user", "table", "tablesample", "then",
    "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using", "values",
    "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement",
    "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
];

/// An identifier as SQL: bare when that reads back as the same name, else double-quoted.
pub fn ident(name: &str) -> String {
    let bare = !name.is_empty()
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && KEYWORDS.binary_search(&name).is_err();
    if bare {
        name.to_string()
    } else {
        ident_always_quoted(name)
    }
}

/// `schema.name`, each part quoted when needed.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// An identifier in double quotes, whatever it is (a `"` in it doubled).
pub fn ident_always_quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `"schema"."name"`, each part in double quotes whatever it is.
pub fn qualified_always_quoted(schema: &str, name: &str) -> String {
    format!("{}.{}", ident_always_quoted(schema), ident_always_quoted(name))
}

/// A search_path written as a list (`app_public, "Odd One", public`), as the server reads one
/// (a name bare, lowercased, or in double quotes, as written), in SQL for `SET search_path = ...`:
/// every name double-quoted, so that no keyword or character of it reads as SQL. None where the
/// list is not one (an unclosed quote, an empty name).
pub fn search_path_sql(list: &str) -> Option<String> {
    let mut names = Vec::new();
    let mut rest = list.trim();
    loop {
        let (name, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let mut name = String::new();
                let mut chars = quoted.char_indices();
                let end = loop {
                    match chars.next()? {
                        (i, '"') if quoted[i + 1..].starts_with('"') => {
                            name.push('"');
                            chars.next();
                        }
                        (i, '"') => break i + 1,
                        (_, c) => name.push(c),
                    }
                };
                (name, &quoted[end..])
            }
            None => {
                let end = rest.find([',', '"']).unwrap_or(rest.len());
                (rest[..end].trim().to_ascii_lowercase(), &rest[end..])
            }
        };
        // (A bare name ends at a space, as the server reads it: `app public` is no list.)
        if name.is_empty() || (!rest.starts_with('"') && name.contains(char::is_whitespace)) {
            return None;
        }
        names.push(ident_always_quoted(&name));
        let after = after.trim_start();
        if after.is_empty() {
            break;
        }
        rest = after.strip_prefix(',')?.trim_start();
    }
    Some(names.join(", "))
}

/// The name PostgreSQL gives a constraint it names itself: `table_column_label` (`users_email_fkey`),
/// cut to 63 bytes the way PostgreSQL cuts it (the longer of table and column loses characters
/// first).
pub fn constraint_name(table: &str, column: Option<&str>, label: &str) -> String {
    const MAX: usize = 63;
    let mut overhead = label.len() + 1;
    if column.is_some() {
        overhead += 1;
    }
    let available = MAX.saturating_sub(overhead);
    let (mut a, mut b) = (table.len(), column.map_or(0, str::len));
    while a + b > available {
        if a > b {
            a -= 1;
        } else {
            b -= 1;
        }
    }
    let clip = |s: &str, n: usize| {
        let mut n = n.min(s.len());
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    match column {
        Some(column) => format!("{}_{}_{label}", clip(table, a), clip(column, b)),
        None => format!("{}_{label}", clip(table, a)),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_search_path_list_is_sent_as_quoted_names() {
        assert_eq!(
            search_path_sql("app_public, app_private,public").unwrap(),
            r#""app_public", "app_private", "public""#
        );
        assert_eq!(
            search_path_sql(r#""$user", "Odd ""One"", Too",  App"#).unwrap(),
            r#""$user", "Odd ""One"", Too", "app""#
        );
        // Nothing of a name reads as SQL.
        assert_eq!(search_path_sql("x;DROP").unwrap(), r#""x;drop""#);
        for bad in ["", "a,", ",a", "app public", r#""open"#, r#"a "b""#] {
            assert_eq!(search_path_sql(bad), None, "{bad}");
        }
    }

    use super::*;

    #[test]
    fn constraint_names_follow_postgresql() {
        assert_eq!(constraint_name("orders", Some("user_id"), "fkey"), "orders_user_id_fkey");
        assert_eq!(constraint_name("orders", None, "check"), "orders_check");
        let long = "a".repeat(40);
        let name = constraint_name(&long, Some(&"b".repeat(40)), "fkey");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_{}_fkey", "a".repeat(29), "b".repeat(28)));
    }

    #[test]
    fn keywords_are_sorted_for_bisection() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(ident("users"), "users");
        assert_eq!(ident("user"), "\"user\"");
        assert_eq!(ident("Users"), "\"Users\"");
        assert_eq!(ident("a b"), "\"a b\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(ident("1st"), "\"1st\"");
        assert_eq!(ident("_x1"), "_x1");
        assert_eq!(qualified("public", "order"), "public.\"order\"");
    }

    #[test]
    fn always_quoted_identifiers_are_quoted_even_when_bare_would_do() {
        assert_eq!(ident_always_quoted("users"), "\"users\"");
        assert_eq!(ident_always_quoted("user"), "\"user\"");
        assert_eq!(ident_always_quoted("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(ident_always_quoted(""), "\"\"");
        assert_eq!(qualified_always_quoted("public", "users"), "\"public\".\"users\"");
        assert_eq!(qualified_always_quoted("a\"b", "Order"), "\"a\"\"b\".\"Order\"");
    }

    #[test]
    fn both_forms_agree_on_names_that_need_quotes() {
        for name in ["user", "Users", "a b", "we\"ird", "1st", ""] {
            assert_eq!(ident(name), ident_always_quoted(name), "{name:?}");
        }
    }
}
