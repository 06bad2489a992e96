WITH ext AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),
nsp AS (
  SELECT n.oid, n.nspname FROM pg_namespace n
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
    AND n.nspname NOT LIKE 'pg\_temp%'
    AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_namespace'::regclass AND ext.objid = n.oid)),
rel AS (
  SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relispartition, c.relpartbound, c.relacl, c.relowner,
         c.relrowsecurity, c.relforcerowsecurity, c.reloftype, c.reloptions, n.nspname
  FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
    AND NOT (n.nspname = {hs} AND c.relname IN ({ht}, {lease}))
    -- Another shale history or lease, by the comment shale gives them (a second project's own
    -- history_table on the same database: Django round 3).
    AND NOT (c.relkind = 'r' AND coalesce(obj_description(c.oid, 'pg_class'), '') ~ '^(Migration history written by shale:|The shale migration lock as a lease)')
    AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)),
-- sequences that are dumped: not owned (serial or identity) by a left-out table
seq AS (
  SELECT c.* FROM rel c WHERE c.relkind = 'S'
    AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                      AND d.refobjid NOT IN (SELECT oid FROM rel))),
-- user-defined enums, domains, range types and stand-alone composite types
typ AS (
  SELECT t.oid, t.typname, t.typtype, t.typrelid, t.typacl, t.typowner, n.nspname
  FROM pg_type t JOIN nsp n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('e', 'd', 'r', 'c')
    AND (t.typtype <> 'c' OR t.typrelid IN (SELECT tc.oid FROM pg_class tc WHERE tc.relkind = 'c'))
    AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)),
-- user functions, procedures and aggregates (not the constructors a range type makes for itself)
fun AS (
  SELECT p.oid, p.proname, p.prokind, p.proacl, p.proowner, n.nspname FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace
  WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND (d.deptype = 'e' OR (d.deptype = 'i' AND d.refclassid = 'pg_type'::regclass)))),
-- the table columns (and row types) each view, function, trigger, policy, index and constraint uses,
-- as pg_depend records them (a view's through its rewrite rule), one hash join for all
uses AS (
  SELECT x.classid, x.objid,
    json_agg(json_build_object('schema', x.nspname, 'table', x.relname, 'columns', x.columns, 'row_type', x.row_type)
             ORDER BY x.nspname, x.relname) AS uses
  FROM (SELECT CASE WHEN d.classid = 'pg_rewrite'::regclass THEN 'pg_class'::regclass ELSE d.classid END AS classid,
          coalesce(r.ev_class, d.objid) AS objid, n.nspname, c.relname,
          coalesce(array_agg(DISTINCT a.attname::text ORDER BY a.attname::text) FILTER (WHERE a.attname IS NOT NULL),
                   '{}') AS columns,
          -- its row type, where a parsed body (a view's, a SQL-standard function body's) records the
          -- table too: a function's signature alone (a string body) does not block retyping
          bool_or(d.refclassid = 'pg_type'::regclass) AND bool_or(d.refclassid = 'pg_class'::regclass) AS row_type
        FROM pg_depend d
        LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
        LEFT JOIN pg_type rt ON d.refclassid = 'pg_type'::regclass AND rt.oid = d.refobjid
        JOIN pg_class c ON c.oid = CASE WHEN d.refclassid = 'pg_class'::regclass THEN d.refobjid ELSE rt.typrelid END
          AND c.relkind IN ('r', 'p')
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute a ON d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0
          AND a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.refclassid IN ('pg_class'::regclass, 'pg_type'::regclass) AND d.deptype IN ('n', 'a')
          AND d.classid IN ('pg_rewrite'::regclass, 'pg_class'::regclass, 'pg_proc'::regclass, 'pg_trigger'::regclass,
                            'pg_policy'::regclass, 'pg_constraint'::regclass)
        GROUP BY 1, 2, 3, 4) x
  GROUP BY x.classid, x.objid),
-- objects with privileges of their own (a NULL acl means the defaults), with the defaults to compare to
acl AS (
  SELECT 'schema' AS kind, n.nspname AS sch, n.nspname AS name, NULL::text AS col, NULL::text AS args, n.nspacl AS acl,
    coalesce((SELECT ip.initprivs FROM pg_init_privs ip WHERE ip.classoid = 'pg_namespace'::regclass
                AND ip.objoid = n.oid AND ip.objsubid = 0), acldefault('n', n.nspowner)) AS base, n.nspowner AS owner
  FROM pg_namespace n WHERE n.nspacl IS NOT NULL AND n.oid IN (SELECT oid FROM nsp)
  UNION ALL
  SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, c.nspname, c.relname, NULL, NULL, c.relacl,
    acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner), c.relowner
  FROM rel c WHERE c.relacl IS NOT NULL AND (c.relkind <> 'S' OR c.oid IN (SELECT oid FROM seq))
  UNION ALL
  SELECT 'table', c.nspname, c.relname, a.attname, NULL, a.attacl, acldefault('c', c.relowner), c.relowner
  FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid
  WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT CASE WHEN f.prokind = 'p' THEN 'procedure' ELSE 'function' END, f.nspname, f.proname, NULL,
    pg_get_function_identity_arguments(f.oid), f.proacl, acldefault('f', f.proowner), f.proowner
  FROM fun f WHERE f.proacl IS NOT NULL
  UNION ALL
  SELECT CASE WHEN t.typtype = 'd' THEN 'domain' ELSE 'type' END, t.nspname, t.typname, NULL, NULL, t.typacl,
    acldefault('T', t.typowner), t.typowner
  FROM typ t WHERE t.typacl IS NOT NULL)
SELECT json_build_object(
'schemas', (SELECT coalesce(json_agg(nspname ORDER BY nspname), '[]') FROM nsp),
'extensions', (SELECT coalesce(json_agg(json_build_object('name', x.extname, 'schema', n.nspname) ORDER BY x.extname), '[]')
  FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace),
-- the locale columns differ by version (collcollate for ICU up to 14, colliculocale in 15 and 16,
-- colllocale from 17; collicurules from 16): read through jsonb so that the query runs on 13 too
'collations', (SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', co.collname,
    'provider', CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END,
    'locale', CASE WHEN co.collprovider <> 'c'
                   THEN coalesce(j.j ->> 'colllocale', j.j ->> 'colliculocale', j.j ->> 'collcollate') END,
    'lc_collate', CASE WHEN co.collprovider = 'c' THEN co.collcollate::text END,
    'lc_ctype', CASE WHEN co.collprovider = 'c' THEN co.collctype::text END,
    'deterministic', co.collisdeterministic, 'rules', j.j ->> 'collicurules')
    ORDER BY n.nspname, co.collname), '[]')
  FROM pg_collation co JOIN nsp n ON n.oid = co.collnamespace, LATERAL (SELECT to_jsonb(co) AS j) j
  WHERE NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_collation'::regclass AND ext.objid = co.oid)),
'enums', (SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', t.typname,
    'values', (SELECT coalesce(json_agg(e.enumlabel ORDER BY e.enumsortorder), '[]') FROM pg_enum e WHERE e.enumtypid = t.oid))
    ORDER BY n.nspname, t.typname), '[]')
  FROM pg_type t JOIN nsp n ON n.oid = t.typnamespace
  WHERE t.typtype = 'e' AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)),
'sequences', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'name', c.relname, 'options', {seq_options},
    'owned_by', (SELECT json_build_object('schema', o.nspname, 'table', oc.relname, 'column', a.attname)
       -- pg_class by its oid index, not the rel CTE: a CTE scan per sequence is quadratic.
       -- (The owner is in rel anyway: sequences of left-out tables are filtered below.)
       FROM pg_depend d JOIN pg_class oc ON oc.oid = d.refobjid JOIN pg_namespace o ON o.oid = oc.relnamespace
       JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
       WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
         AND d.deptype = 'a' AND d.refobjsubid > 0))
    ORDER BY c.nspname, c.relname), '[]')
  FROM seq c JOIN pg_sequence s ON s.seqrelid = c.oid
  -- identity sequences belong to their column
  WHERE NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i')),
'tables', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'name', c.relname,
    'unlogged', c.relpersistence = 'u',
    'partition_key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
    'partition_of', (SELECT json_build_object('schema', pn.nspname, 'name', pc.relname)
       FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
       WHERE i.inhrelid = c.oid AND c.relispartition),
    'partition_bound', CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
    -- pg_description directly: obj_description and col_description are SQL functions, and calling
    -- one per column cost a third of this part
    'comment', (SELECT d.description FROM pg_description d
                WHERE d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0),
    'inherits', coalesce(inh.parents, '[]'),
    -- a partition's copies of its parent's indexes and constraints
    'partition_copies', CASE WHEN c.relispartition THEN (SELECT coalesce(json_agg(json_build_object(
        'constraint', x.con, 'name', x.name, 'of', x.of, 'definition', x.def) ORDER BY x.con, x.name), '[]')
      FROM (SELECT false AS con, ic.relname AS name, pc.relname AS of, pg_get_indexdef(i.indexrelid) AS def
            FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_inherits h ON h.inhrelid = i.indexrelid JOIN pg_class pc ON pc.oid = h.inhparent
            WHERE i.indrelid = c.oid
              AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = c.oid
                                AND k.contype IN ('p', 'u', 'x'))
            UNION ALL
            SELECT true, k.conname, coalesce((SELECT pk.conname FROM pg_constraint pk WHERE pk.oid = k.conparentid), k.conname),
              pg_get_constraintdef(k.oid) FROM pg_constraint k
            WHERE k.conrelid = c.oid AND k.contype IN ('c', 'p', 'u', 'x', 'f') AND (k.conparentid <> 0 OR NOT k.conislocal)) x)
      ELSE '[]' END,
    'row_security', c.relrowsecurity, 'force_row_security', c.relforcerowsecurity,
    'storage', coalesce((SELECT json_agg(o ORDER BY o) FROM unnest(c.reloptions) o), '[]'),
    'of_type', CASE WHEN c.reloftype <> 0 THEN (SELECT json_build_object('schema', tn.nspname, 'name', tt.typname)
       FROM pg_type tt JOIN pg_namespace tn ON tn.oid = tt.typnamespace WHERE tt.oid = c.reloftype) END,
    'columns', (SELECT coalesce(json_agg(json_build_object('name', a.attname,
        'inherited', NOT a.attislocal AND NOT c.relispartition,
        'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
        'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
            (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
             JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
        -- a default cannot refer to columns, so it needs no relation (opening one per call is slow)
        'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0) END,
        'generated', CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
        'identity', CASE WHEN a.attidentity <> '' THEN json_build_object('always', a.attidentity = 'a',
            'sequence', (SELECT json_build_object('schema', sn.nspname, 'name', sc.relname, 'options', {seq_options})
               FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid JOIN pg_namespace sn ON sn.oid = sc.relnamespace
               JOIN pg_sequence s ON s.seqrelid = sc.oid
               WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
                 AND d.refobjsubid = a.attnum AND d.deptype = 'i' LIMIT 1)) END,
        'comment', cd.description) ORDER BY a.attnum), '[]')
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      LEFT JOIN pg_description cd ON cd.objoid = a.attrelid AND cd.classoid = 'pg_class'::regclass AND cd.objsubid = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
    ORDER BY c.nspname, c.relname), '[]')
  FROM rel c
  -- the INHERITS parents of every table at once (one hash join, not a lookup per table)
  LEFT JOIN (SELECT i.inhrelid, json_agg(json_build_object('schema', pn.nspname, 'name', pc.relname) ORDER BY i.inhseqno) AS parents
             FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             GROUP BY i.inhrelid) inh ON inh.inhrelid = c.oid AND NOT c.relispartition
  WHERE c.relkind IN ('r', 'p')),
'constraints', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'table', c.relname, 'name', k.conname,
    'kind', CASE k.contype WHEN 'c' THEN 'check' WHEN 'p' THEN 'primary_key' WHEN 'u' THEN 'unique'
                           WHEN 'x' THEN 'exclusion' ELSE 'foreign_key' END,
    'definition', pg_get_constraintdef(k.oid), 'validated', k.convalidated,
    'deferrable', k.condeferrable, 'deferred', k.condeferred, 'uses', coalesce(us.uses, '[]'))
    ORDER BY c.nspname, c.relname, k.conname), '[]')
  FROM pg_constraint k JOIN rel c ON c.oid = k.conrelid
  LEFT JOIN uses us ON us.classid = 'pg_constraint'::regclass AND us.objid = k.oid
  WHERE k.contype IN ('c', 'p', 'u', 'x', 'f') AND k.conparentid = 0 AND k.conislocal),
'indexes', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'table', c.relname, 'name', ic.relname,
    'definition', CASE WHEN c.relkind = 'p' THEN regexp_replace(pg_get_indexdef(i.indexrelid), ' ON ONLY ', ' ON ')
                       ELSE pg_get_indexdef(i.indexrelid) END,
    'on_materialized_view', c.relkind = 'm', 'valid', i.indisvalid OR c.relkind = 'p',
    'uses', coalesce(us.uses, '[]'),
    -- the user functions its expressions and predicate call (named as the functions' 'calls')
    'calls', (SELECT coalesce(json_agg(DISTINCT jsonb_build_object('schema', fn.nspname,
                'name', f.proname || '(' || pg_get_function_identity_arguments(f.oid) || ')')), '[]')
       FROM pg_depend df JOIN pg_proc f ON f.oid = df.refobjid JOIN fun fn ON fn.oid = f.oid
       WHERE df.classid = 'pg_class'::regclass AND df.objid = i.indexrelid AND df.refclassid = 'pg_proc'::regclass))
    ORDER BY c.nspname, ic.relname), '[]')
  FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN rel c ON c.oid = i.indrelid
  LEFT JOIN uses us ON us.classid = 'pg_class'::regclass AND us.objid = i.indexrelid
  WHERE NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                      AND k.contype IN ('p', 'u', 'x'))
    AND NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)),
'views', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'name', c.relname,
    'materialized', c.relkind = 'm', 'definition', pg_get_viewdef(c.oid),
    'comment', (SELECT d.description FROM pg_description d
                WHERE d.objoid = c.oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0),
    'depends_on', (SELECT coalesce(json_agg(json_build_object('schema', x.nspname, 'name', x.relname)
                                            ORDER BY x.nspname, x.relname), '[]')
       FROM (SELECT DISTINCT vn.nspname, v.relname FROM pg_rewrite r
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
             -- pg_class by its oid index, not the rel CTE (quadratic in the number of views).
             JOIN pg_class v ON v.oid = d.refobjid JOIN nsp vn ON vn.oid = v.relnamespace
             WHERE r.ev_class = c.oid AND v.oid <> c.oid AND v.relkind IN ('v', 'm')
               AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = v.oid)) x),
    'uses', coalesce(us.uses, '[]'))
    ORDER BY c.nspname, c.relname), '[]')
  FROM rel c LEFT JOIN uses us ON us.classid = 'pg_class'::regclass AND us.objid = c.oid
  WHERE c.relkind IN ('v', 'm')),
'functions', (SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', p.proname,
    'arguments', pg_get_function_identity_arguments(p.oid),
    'kind', CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'w' THEN 'window' ELSE 'function' END,
    'definition', pg_get_functiondef(p.oid),
    -- a row type in the signature, or a SQL-standard body (BEGIN ATOMIC / RETURN) that reads a table
    'needs_tables', EXISTS (SELECT FROM pg_depend d LEFT JOIN pg_type t ON d.refclassid = 'pg_type'::regclass AND t.oid = d.refobjid
        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
          AND (t.typrelid <> 0 OR d.refclassid = 'pg_class'::regclass)),
    'depends_on', (SELECT coalesce(json_agg(DISTINCT jsonb_build_object('schema', un.nspname, 'name', u.typname)), '[]')
       FROM pg_depend dp JOIN pg_type r ON r.oid = dp.refobjid
       JOIN pg_type u ON u.oid = CASE WHEN r.typelem <> 0 AND r.typlen = -1 THEN r.typelem ELSE r.oid END
       JOIN pg_namespace un ON un.oid = u.typnamespace
       WHERE dp.classid = 'pg_proc'::regclass AND dp.objid = p.oid AND dp.refclassid = 'pg_type'::regclass
         AND u.typtype IN ('d', 'c', 'r')),
    'uses', coalesce(us.uses, '[]'),
    -- the user functions its SQL-standard body calls (named with their identity arguments)
    'calls', (SELECT coalesce(json_agg(DISTINCT jsonb_build_object('schema', cn.nspname,
                'name', c.proname || '(' || pg_get_function_identity_arguments(c.oid) || ')')), '[]')
       FROM pg_depend dc JOIN pg_proc c ON c.oid = dc.refobjid JOIN fun cn ON cn.oid = c.oid
       WHERE dc.classid = 'pg_proc'::regclass AND dc.objid = p.oid AND dc.refclassid = 'pg_proc'::regclass
         AND dc.refobjid <> p.oid AND dc.deptype = 'n'))
    ORDER BY n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), '[]')
  FROM pg_proc p JOIN fun n ON n.oid = p.oid
  LEFT JOIN uses us ON us.classid = 'pg_proc'::regclass AND us.objid = p.oid
  WHERE p.prokind IN ('f', 'p', 'w')),
'triggers', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'table', c.relname, 'name', g.tgname,
    'definition', pg_get_triggerdef(g.oid), 'enabled', g.tgenabled, 'uses', coalesce(us.uses, '[]'))
    ORDER BY c.nspname, c.relname, g.tgname), '[]')
  FROM pg_trigger g JOIN rel c ON c.oid = g.tgrelid
  LEFT JOIN uses us ON us.classid = 'pg_trigger'::regclass AND us.objid = g.oid
  WHERE NOT g.tgisinternal AND g.tgparentid = 0),
'domains', (SELECT coalesce(json_agg(json_build_object('schema', t.nspname, 'name', t.typname,
    'type', format_type(d.typbasetype, d.typtypmod),
    'collation', CASE WHEN d.typcollation <> 0 AND d.typcollation <> bt.typcollation THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
        JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = d.typcollation) END,
    'default', pg_get_expr(d.typdefaultbin, 0), 'not_null', d.typnotnull,
    'checks', (SELECT coalesce(json_agg(json_build_object('name', k.conname, 'definition', pg_get_constraintdef(k.oid))
                                        ORDER BY k.conname), '[]')
       FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'),
    'needs_functions', EXISTS (SELECT FROM pg_depend dp JOIN fun f ON f.oid = dp.refobjid
       WHERE dp.refclassid = 'pg_proc'::regclass
         AND ((dp.classid = 'pg_type'::regclass AND dp.objid = t.oid)
              OR (dp.classid = 'pg_constraint'::regclass
                  AND dp.objid IN (SELECT k.oid FROM pg_constraint k WHERE k.contypid = t.oid)))),
    'depends_on', {depends_on})
    ORDER BY t.nspname, t.typname), '[]')
  FROM typ t JOIN pg_type d ON d.oid = t.oid JOIN pg_type bt ON bt.oid = d.typbasetype WHERE t.typtype = 'd'),
'composite_types', (SELECT coalesce(json_agg(json_build_object('schema', t.nspname, 'name', t.typname,
    'attributes', (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
        'collation', CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
        JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END)
        ORDER BY a.attnum), '[]')
      FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
      WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped),
    'depends_on', {depends_on})
    ORDER BY t.nspname, t.typname), '[]')
  FROM typ t WHERE t.typtype = 'c'),
'range_types', (SELECT coalesce(json_agg(json_build_object('schema', t.nspname, 'name', t.typname,
    'subtype', format_type(r.rngsubtype, NULL),
    'subtype_opclass', (SELECT format('%I.%I', ocn.nspname, oc.opcname) FROM pg_opclass oc
       JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace WHERE oc.oid = r.rngsubopc AND NOT oc.opcdefault),
    'collation', CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
        JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = r.rngcollation) END,
    'canonical', CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END,
    'subdiff', CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END,
    -- through jsonb: the column exists from PostgreSQL 14 on, and the query must run on 13 too
    'multirange', (SELECT json_build_object('schema', mn.nspname, 'name', mt.typname)
       FROM pg_type mt JOIN pg_namespace mn ON mn.oid = mt.typnamespace WHERE mt.oid = (to_jsonb(r) ->> 'rngmultitypid')::oid),
    'needs_functions', EXISTS (SELECT FROM fun f WHERE f.oid IN (r.rngcanonical, r.rngsubdiff)),
    'depends_on', {depends_on})
    ORDER BY t.nspname, t.typname), '[]')
  FROM typ t JOIN pg_range r ON r.rngtypid = t.oid JOIN pg_type st ON st.oid = r.rngsubtype),
'aggregates', (SELECT coalesce(json_agg(json_build_object('schema', f.nspname, 'name', f.proname,
    'arguments', pg_get_function_identity_arguments(f.oid),
    'definition', format('CREATE AGGREGATE %I.%I(%s) (%s);', f.nspname, f.proname,
      CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_get_function_arguments(f.oid) END,
      concat_ws(', ',
        'SFUNC = ' || a.aggtransfn::regproc, 'STYPE = ' || format_type(a.aggtranstype, NULL),
        CASE WHEN a.aggtransspace <> 0 THEN 'SSPACE = ' || a.aggtransspace END,
        CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::regproc END,
        CASE WHEN a.aggfinalfn <> 0 AND a.aggfinalextra THEN 'FINALFUNC_EXTRA' END,
        CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC_MODIFY = ' || CASE a.aggfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
        CASE WHEN a.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || a.aggcombinefn::regproc END,
        CASE WHEN a.aggserialfn <> 0 THEN 'SERIALFUNC = ' || a.aggserialfn::regproc END,
        CASE WHEN a.aggdeserialfn <> 0 THEN 'DESERIALFUNC = ' || a.aggdeserialfn::regproc END,
        'INITCOND = ' || quote_literal(a.agginitval),
        CASE WHEN a.aggmtransfn <> 0 THEN 'MSFUNC = ' || a.aggmtransfn::regproc END,
        CASE WHEN a.aggminvtransfn <> 0 THEN 'MINVFUNC = ' || a.aggminvtransfn::regproc END,
        CASE WHEN a.aggmtransfn <> 0 THEN 'MSTYPE = ' || format_type(a.aggmtranstype, NULL) END,
        CASE WHEN a.aggmtransspace <> 0 THEN 'MSSPACE = ' || a.aggmtransspace END,
        CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC = ' || a.aggmfinalfn::regproc END,
        CASE WHEN a.aggmfinalfn <> 0 AND a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
        CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC_MODIFY = ' || CASE a.aggmfinalmodify WHEN 'r' THEN 'READ_ONLY' WHEN 's' THEN 'SHAREABLE' ELSE 'READ_WRITE' END END,
        'MINITCOND = ' || quote_literal(a.aggminitval),
        (SELECT format('SORTOP = OPERATOR(%I.%s)', opn.nspname, op.oprname) FROM pg_operator op
           JOIN pg_namespace opn ON opn.oid = op.oprnamespace WHERE op.oid = a.aggsortop),
        CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END,
        CASE WHEN a.aggkind = 'h' THEN 'HYPOTHETICAL' END)))
    ORDER BY f.nspname, f.proname, pg_get_function_identity_arguments(f.oid)), '[]')
  FROM fun f JOIN pg_proc p ON p.oid = f.oid JOIN pg_aggregate a ON a.aggfnoid = f.oid),
'policies', (SELECT coalesce(json_agg(json_build_object('schema', c.nspname, 'table', c.relname, 'name', p.polname,
    'permissive', p.polpermissive,
    'command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE'
                             ELSE 'ALL' END,
    'roles', (SELECT json_agg(CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r.oid)::text END ORDER BY CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r.oid)::text END) FROM unnest(p.polroles) r(oid)),
    'using', pg_get_expr(p.polqual, p.polrelid), 'with_check', pg_get_expr(p.polwithcheck, p.polrelid),
    'uses', coalesce(us.uses, '[]'))
    ORDER BY c.nspname, c.relname, p.polname), '[]')
  FROM pg_policy p JOIN rel c ON c.oid = p.polrelid
  LEFT JOIN uses us ON us.classid = 'pg_policy'::regclass AND us.objid = p.oid),
'comments', (SELECT coalesce(json_agg(json_build_object('kind', x.kind, 'schema', x.sch, 'name', x.name, 'parent', x.parent,
    'arguments', x.args, 'comment', x.comment) ORDER BY x.kind, x.sch, x.parent, x.name, x.args), '[]')
  FROM (
    SELECT 'schema' AS kind, n.nspname AS sch, n.nspname AS name, NULL::name AS parent, NULL::text AS args, d.description AS comment
    FROM nsp n JOIN pg_description d ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid AND d.objsubid = 0
    -- the comment initdb puts on public is in every new database already
    WHERE NOT (n.nspname = 'public' AND d.description = 'standard public schema')
    UNION ALL
    SELECT 'extension', n.nspname, x.extname, NULL, NULL, d.description
    FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
    JOIN pg_description d ON d.classoid = 'pg_extension'::regclass AND d.objoid = x.oid AND d.objsubid = 0
    -- CREATE EXTENSION gives it its control file's comment
    LEFT JOIN pg_available_extensions v ON v.name = x.extname
    WHERE d.description IS DISTINCT FROM v.comment
    UNION ALL
    SELECT 'collation', n.nspname, co.collname, NULL, NULL, d.description
    FROM pg_collation co JOIN nsp n ON n.oid = co.collnamespace
    JOIN pg_description d ON d.classoid = 'pg_collation'::regclass AND d.objoid = co.oid AND d.objsubid = 0
    WHERE NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_collation'::regclass AND ext.objid = co.oid)
    UNION ALL
    SELECT CASE WHEN t.typtype = 'd' THEN 'domain' ELSE 'type' END, t.nspname, t.typname, NULL, NULL, d.description
    FROM typ t JOIN pg_description d ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid AND d.objsubid = 0
    UNION ALL
    SELECT 'sequence', c.nspname, c.relname, NULL, NULL, d.description
    FROM seq c JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid AND d.objsubid = 0
    UNION ALL
    SELECT 'index', c.nspname, ic.relname, NULL, NULL, d.description
    FROM pg_index i JOIN rel c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = i.indexrelid AND d.objsubid = 0
    WHERE NOT EXISTS (SELECT FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
    UNION ALL
    SELECT 'constraint', c.nspname, k.conname, c.relname, NULL, d.description
    FROM pg_constraint k JOIN rel c ON c.oid = k.conrelid
    JOIN pg_description d ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid AND d.objsubid = 0
    WHERE k.contype IN ('c', 'p', 'u', 'x', 'f') AND k.conparentid = 0 AND k.conislocal
    UNION ALL
    SELECT 'domain_constraint', t.nspname, k.conname, t.typname, NULL, d.description
    FROM pg_constraint k JOIN typ t ON t.oid = k.contypid
    JOIN pg_description d ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid AND d.objsubid = 0
    WHERE k.contype = 'c'
    UNION ALL
    SELECT CASE f.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, f.nspname, f.proname, NULL,
      pg_get_function_identity_arguments(f.oid), d.description
    FROM fun f JOIN pg_description d ON d.classoid = 'pg_proc'::regclass AND d.objoid = f.oid AND d.objsubid = 0
    UNION ALL
    SELECT 'trigger', c.nspname, g.tgname, c.relname, NULL, d.description
    FROM pg_trigger g JOIN rel c ON c.oid = g.tgrelid
    JOIN pg_description d ON d.classoid = 'pg_trigger'::regclass AND d.objoid = g.oid AND d.objsubid = 0
    WHERE NOT g.tgisinternal AND g.tgparentid = 0
    UNION ALL
    SELECT 'policy', c.nspname, p.polname, c.relname, NULL, d.description
    FROM pg_policy p JOIN rel c ON c.oid = p.polrelid
    JOIN pg_description d ON d.classoid = 'pg_policy'::regclass AND d.objoid = p.oid AND d.objsubid = 0
    UNION ALL
    -- columns of views and composite types (table columns carry their comment in the column)
    SELECT 'column', x.nspname, a.attname, x.relname, NULL, d.description
    FROM (SELECT c.oid, c.nspname, c.relname FROM rel c WHERE c.relkind IN ('v', 'm')
          UNION ALL SELECT t.typrelid, t.nspname, t.typname FROM typ t WHERE t.typtype = 'c') x
    JOIN pg_description d ON d.classoid = 'pg_class'::regclass AND d.objoid = x.oid AND d.objsubid > 0
    JOIN pg_attribute a ON a.attrelid = x.oid AND a.attnum = d.objsubid) x),
'privileges', (SELECT coalesce(json_agg(json_build_object('kind', o.kind, 'schema', o.sch, 'name', o.name, 'column', o.col,
    'arguments', o.args, 'granted', g.granted, 'revoked', g.revoked) ORDER BY o.kind, o.sch, o.name, o.args, o.col), '[]')
  FROM acl o,
{acl_difference}  WHERE g.n > 0),
'default_privileges', (SELECT coalesce(json_agg(json_build_object('role', o.role, 'schema', o.sch, 'kind', o.kind,
    'granted', g.granted, 'revoked', g.revoked) ORDER BY o.role, o.sch, o.kind), '[]')
  FROM (SELECT NULLIF(pg_get_userbyid(da.defaclrole), current_user)::text AS role, n.nspname::text AS sch,
          CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                                WHEN 'T' THEN 'types' ELSE 'schemas' END AS kind,
          da.defaclacl AS acl, da.defaclrole AS owner,
          -- an entry for all schemas replaces the built-in defaults; one for a schema adds to them
          -- (acldefault's letter for sequences is 's': its 'S' is a foreign server)
          CASE WHEN da.defaclnamespace = 0
               THEN acldefault(CASE da.defaclobjtype WHEN 'S' THEN 's' ELSE da.defaclobjtype END, da.defaclrole)
               END AS base
        FROM pg_default_acl da LEFT JOIN nsp n ON n.oid = da.defaclnamespace
        WHERE da.defaclobjtype IN ('r', 'S', 'f', 'T', 'n') AND (da.defaclnamespace = 0 OR n.oid IS NOT NULL)) o,
{acl_difference}  WHERE g.n > 0),
-- user operators (not shells: an operator named only as another's commutator before it was made)
'operators', (SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', o.oprname,
    'left', CASE WHEN o.oprleft <> 0 THEN format_type(o.oprleft, NULL) END, 'right', format_type(o.oprright, NULL),
    'function', o.oprcode::regproc::text,
    'commutator', (SELECT format('OPERATOR(%I.%s)', cn.nspname, c.oprname) FROM pg_operator c
                   JOIN pg_namespace cn ON cn.oid = c.oprnamespace WHERE c.oid = o.oprcom),
    'negator', (SELECT format('OPERATOR(%I.%s)', cn.nspname, c.oprname) FROM pg_operator c
                JOIN pg_namespace cn ON cn.oid = c.oprnamespace WHERE c.oid = o.oprnegate),
    'restrict', NULLIF(o.oprrest::regproc::text, '-'), 'join', NULLIF(o.oprjoin::regproc::text, '-'),
    'hashes', o.oprcanhash, 'merges', o.oprcanmerge)), '[]')
  FROM pg_operator o JOIN nsp n ON n.oid = o.oprnamespace
  WHERE o.oprcode <> 0
    AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_operator'::regclass AND ext.objid = o.oid)),
'casts', (SELECT coalesce(json_agg(json_build_object('source', format_type(c.castsource, NULL),
    'target', format_type(c.casttarget, NULL),
    'function', CASE WHEN c.castmethod = 'f' THEN c.castfunc::regprocedure::text END,
    'method', c.castmethod, 'context', c.castcontext)), '[]')
  FROM pg_cast c WHERE c.oid >= 16384
    AND NOT EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_cast'::regclass AND ext.objid = c.oid)
    -- (not the one a range type makes to its multirange, part of the type)
    AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_cast'::regclass AND d.objid = c.oid
                      AND d.deptype = 'i')),
-- user objects of kinds the model does not hold, counted with their first names, so that a dump or
-- a diff says what it leaves out rather than leaving it out without a word
'unread', (SELECT coalesce(json_agg(json_build_object('kind', u.kind, 'count', u.n, 'names', u.names) ORDER BY u.kind), '[]')
  FROM (SELECT x.kind, count(*) AS n, (array_agg(x.name ORDER BY x.name))[1:3] AS names FROM (
    SELECT 'pg_opclass'::regclass AS classid, c.oid, 'operator class' AS kind, format('%I.%I', n.nspname, c.opcname) AS name
    FROM pg_opclass c JOIN nsp n ON n.oid = c.opcnamespace
    UNION ALL
    -- (a family of its own is made with each operator class: only the others are counted)
    SELECT 'pg_opfamily'::regclass, f.oid, 'operator family', format('%I.%I', n.nspname, f.opfname)
    FROM pg_opfamily f JOIN nsp n ON n.oid = f.opfnamespace
    WHERE NOT EXISTS (SELECT FROM pg_opclass c WHERE c.opcfamily = f.oid)
    UNION ALL
    SELECT 'pg_rewrite'::regclass, r.oid, 'rule', format('%I on %I.%I', r.rulename, c.nspname, c.relname)
    FROM pg_rewrite r JOIN rel c ON c.oid = r.ev_class WHERE r.rulename <> '_RETURN'
    UNION ALL
    SELECT 'pg_statistic_ext'::regclass, s.oid, 'statistics object', format('%I.%I', n.nspname, s.stxname)
    FROM pg_statistic_ext s JOIN nsp n ON n.oid = s.stxnamespace
    UNION ALL
    SELECT 'pg_ts_config'::regclass, t.oid, 'text search configuration', format('%I.%I', n.nspname, t.cfgname)
    FROM pg_ts_config t JOIN nsp n ON n.oid = t.cfgnamespace
    UNION ALL
    SELECT 'pg_ts_dict'::regclass, t.oid, 'text search dictionary', format('%I.%I', n.nspname, t.dictname)
    FROM pg_ts_dict t JOIN nsp n ON n.oid = t.dictnamespace
    UNION ALL
    SELECT 'pg_ts_parser'::regclass, t.oid, 'text search parser', format('%I.%I', n.nspname, t.prsname)
    FROM pg_ts_parser t JOIN nsp n ON n.oid = t.prsnamespace
    UNION ALL
    SELECT 'pg_ts_template'::regclass, t.oid, 'text search template', format('%I.%I', n.nspname, t.tmplname)
    FROM pg_ts_template t JOIN nsp n ON n.oid = t.tmplnamespace
    UNION ALL
    SELECT 'pg_conversion'::regclass, v.oid, 'conversion', format('%I.%I', n.nspname, v.conname)
    FROM pg_conversion v JOIN nsp n ON n.oid = v.connamespace
    UNION ALL
    SELECT 'pg_class'::regclass, c.oid, 'foreign table', format('%I.%I', n.nspname, c.relname)
    FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace WHERE c.relkind = 'f'
    UNION ALL
    SELECT 'pg_foreign_server'::regclass, s.oid, 'foreign server', quote_ident(s.srvname) FROM pg_foreign_server s
    UNION ALL
    SELECT 'pg_foreign_data_wrapper'::regclass, w.oid, 'foreign-data wrapper', quote_ident(w.fdwname)
    FROM pg_foreign_data_wrapper w
    UNION ALL
    SELECT 'pg_event_trigger'::regclass, e.oid, 'event trigger', quote_ident(e.evtname) FROM pg_event_trigger e
    UNION ALL
    SELECT 'pg_am'::regclass, a.oid, 'access method', quote_ident(a.amname) FROM pg_am a WHERE a.oid >= 16384
    UNION ALL
    SELECT 'pg_language'::regclass, l.oid, 'procedural language', quote_ident(l.lanname)
    FROM pg_language l WHERE l.oid >= 16384
    UNION ALL
    SELECT 'pg_publication'::regclass, p.oid, 'publication', quote_ident(p.pubname) FROM pg_publication p
    UNION ALL
    -- a column's own statistics target and storage (`ALTER COLUMN ... SET STATISTICS 500`, `SET
    -- STORAGE EXTERNAL`), as its table (TypeORM trial: left out of a baseline without a word)
    SELECT 'pg_class'::regclass, a.attrelid, 'column statistics target', format('%I.%I.%I', c.nspname, c.relname, a.attname)
    FROM pg_attribute a JOIN rel c ON c.oid = a.attrelid
    WHERE c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget >= 0
    UNION ALL
    SELECT 'pg_class'::regclass, a.attrelid, 'column storage setting', format('%I.%I.%I', c.nspname, c.relname, a.attname)
    FROM pg_attribute a JOIN rel c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
    WHERE c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped AND a.attstorage <> t.typstorage
      -- (not what an extension's upgrade leaves: pgvector 0.6's `ALTER TYPE vector SET (STORAGE =
      -- external)` left older columns `extended` (review); one set by hand on such a column, as
      -- pgvector's tuning has it (`SET STORAGE PLAIN`), is counted: re-check)
      AND NOT (a.attstorage = 'x' AND t.typstorage = 'e'
               AND EXISTS (SELECT FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid))) x
  -- (those an extension made are its own)
  WHERE NOT EXISTS (SELECT FROM ext WHERE ext.classid = x.classid AND ext.objid = x.oid)
  GROUP BY x.kind) u)
)
