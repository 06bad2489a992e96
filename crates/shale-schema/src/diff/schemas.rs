//! Schemas and extensions: created first, dropped last.

use std::collections::{BTreeMap, BTreeSet};

use super::Differ;
use crate::dump::ident;

impl<'a> Differ<'a> {
    pub(super) fn create_schemas_and_extensions(&mut self) {
        let from: BTreeSet<&String> = self.from.schemas.iter().collect();
        for s in &self.to.schemas {
            if !from.contains(s) {
                self.push(format!("schema {s}"), format!("CREATE SCHEMA {};", ident(s)), false, None);
            }
        }
        let from: BTreeMap<&str, &str> =
            self.from.extensions.iter().map(|x| (x.name.as_str(), x.schema.as_str())).collect();
        for x in &self.to.extensions {
            match from.get(x.name.as_str()) {
                None => self.push(
                    format!("extension {}", x.name),
                    format!("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {};", ident(&x.name), ident(&x.schema)),
                    false,
                    None,
                ),
                Some(s) if *s != x.schema => self.push(
                    format!("extension {}", x.name),
                    format!("ALTER EXTENSION {} SET SCHEMA {};", ident(&x.name), ident(&x.schema)),
                    false,
                    None,
                ),
                Some(_) => {}
            }
        }
    }

    pub(super) fn drop_extensions_and_schemas(&mut self) {
        let to: BTreeSet<&str> = self.to.extensions.iter().map(|x| x.name.as_str()).collect();
        let removed: Vec<String> =
            self.from.extensions.iter().filter(|x| !to.contains(x.name.as_str())).map(|x| x.name.clone()).collect();
        for x in removed {
            self.push(format!("extension {x}"), format!("DROP EXTENSION {};", ident(&x)), false, None);
        }
        let to: BTreeSet<&String> = self.to.schemas.iter().collect();
        let removed: Vec<String> = self.from.schemas.iter().filter(|s| !to.contains(s)).cloned().collect();
        for s in removed {
            // Destructive like the tables in it: left out with them.
            self.push(format!("schema {s}"), format!("DROP SCHEMA {};", ident(&s)), true, None);
        }
    }
}
