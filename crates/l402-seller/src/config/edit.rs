//! Changes to the configuration file's text that keep everything else as written (comments,
//! order, formatting): a `[[services]]` table replaced, added or removed. Sans-IO: text in,
//! text out; the caller parses the result with the usual loader and checks it before writing.

use serde_json::Value;
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table};

/// Why the text could not be changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EditError {
    /// The file as it is now is not TOML.
    #[error("the configuration file is not valid TOML now: {0}")]
    Unparsable(String),
    /// `services` in the file is not a list of `[[services]]` tables.
    #[error("`services` in the configuration file is not a list of [[services]] tables")]
    NotServiceTables,
    /// No service of that name.
    #[error("no service named `{0}`")]
    NoSuchService(String),
    /// The JSON given cannot be written as a service table.
    #[error("{0}")]
    BadService(String),
}

/// Replaces the `[[services]]` table named `name` with `service` (a JSON object with the
/// table's keys, as `crates/l402-seller/CONFIG.md` lists them; `name` may be left out), or
/// appends it when there is none. Returns the new text.
pub fn put_service(text: &str, name: &str, service: &Value) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    let mut table = service_table(name, service)?;
    table.set_implicit(false);
    let services = services_mut(&mut doc)?;
    match position(services, name) {
        Some(i) => {
            let slot = services
                .get_mut(i)
                .ok_or_else(|| EditError::NoSuchService(name.to_owned()))?;
            // Keep the comment lines written above the table.
            let decor = slot.decor().clone();
            *slot = table;
            *slot.decor_mut() = decor;
        }
        None => services.push(table),
    }
    Ok(doc.to_string())
}

/// Removes the `[[services]]` table named `name`. Returns the new text.
pub fn delete_service(text: &str, name: &str) -> Result<String, EditError> {
    let mut doc = parse(text)?;
    let services = services_mut(&mut doc)?;
    let i = position(services, name).ok_or_else(|| EditError::NoSuchService(name.to_owned()))?;
    services.remove(i);
    Ok(doc.to_string())
}

fn parse(text: &str) -> Result<DocumentMut, EditError> {
    text.parse::<DocumentMut>()
        .map_err(|e| EditError::Unparsable(e.to_string()))
}

fn services_mut(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables, EditError> {
    doc.as_table_mut()
        .entry("services")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or(EditError::NotServiceTables)
}

fn position(services: &ArrayOfTables, name: &str) -> Option<usize> {
    services
        .iter()
        .position(|t| t.get("name").and_then(Item::as_str) == Some(name))
}

/// The table `service` describes, named `name`.
fn service_table(name: &str, service: &Value) -> Result<Table, EditError> {
    let Value::Object(fields) = service else {
        return Err(EditError::BadService(
            "a service is a JSON object of its configuration keys".into(),
        ));
    };
    match fields.get("name") {
        None => {}
        Some(Value::String(n)) if n == name => {}
        Some(other) => {
            return Err(EditError::BadService(format!(
                "the body names the service {other}, the path `{name}`: they must agree"
            )));
        }
    }
    let mut table = Table::new();
    table.insert("name", toml_edit::value(name));
    for (key, value) in fields {
        if key == "name" {
            continue;
        }
        table.insert(key, item(key, value)?);
    }
    Ok(table)
}

/// A JSON value as a TOML item: a list of objects becomes `[[…]]` tables (routes), other
/// values inline.
fn item(key: &str, value: &Value) -> Result<Item, EditError> {
    if let Value::Array(items) = value
        && !items.is_empty()
        && items.iter().all(Value::is_object)
    {
        let mut tables = ArrayOfTables::new();
        for element in items {
            let mut table = Table::new();
            if let Value::Object(fields) = element {
                for (k, v) in fields {
                    table.insert(k, item(k, v)?);
                }
            }
            tables.push(table);
        }
        return Ok(Item::ArrayOfTables(tables));
    }
    Ok(toml_edit::value(inline(key, value)?))
}

fn inline(key: &str, value: &Value) -> Result<toml_edit::Value, EditError> {
    Ok(match value {
        Value::Null => {
            return Err(EditError::BadService(format!(
                "`{key}` is null: leave the key out instead"
            )));
        }
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into(),
            (None, Some(f)) if n.is_f64() => f.into(),
            _ => {
                return Err(EditError::BadService(format!(
                    "`{key}` = {n} does not fit a TOML integer"
                )));
            }
        },
        Value::String(s) => s.as_str().into(),
        Value::Array(items) => {
            let mut array = Array::new();
            for v in items {
                array.push(inline(key, v)?);
            }
            array.into()
        }
        Value::Object(fields) => {
            let mut table = InlineTable::new();
            for (k, v) in fields {
                table.insert(k, inline(k, v)?);
            }
            table.into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = "# my seller\ndata_dir = \"state\"\n\n# the weather API\n[[services]]\nname = \"weather\"\nupstream = \"http://127.0.0.1:1\"\nprice_sat = 2 # cheap\n\n[[services]]\nname = \"maps\"\nupstream = \"http://127.0.0.1:2\"\nprice_sat = 9\n";

    #[test]
    fn a_service_is_replaced_in_place_and_the_rest_is_kept_as_written() {
        let out = put_service(
            FILE,
            "weather",
            &json!({"upstream": "http://127.0.0.1:1", "price_sat": 5,
                    "routes": [{"path": "/api/weather/pro", "price_sat": 20}]}),
        )
        .unwrap();
        assert!(
            out.starts_with("# my seller\ndata_dir = \"state\"\n"),
            "{out}"
        );
        assert!(
            out.contains("# the weather API\n[[services]]\nname = \"weather\""),
            "{out}"
        );
        assert!(out.contains("price_sat = 5"), "{out}");
        assert!(!out.contains("price_sat = 2 "), "{out}");
        assert!(
            out.contains("[[services.routes]]\npath = \"/api/weather/pro\"\nprice_sat = 20"),
            "{out}"
        );
        // The other service is untouched, and still after it.
        let weather = out.find("\"weather\"").unwrap();
        let maps = out
            .find("name = \"maps\"\nupstream = \"http://127.0.0.1:2\"\nprice_sat = 9")
            .unwrap();
        assert!(weather < maps, "{out}");
        // It parses back to what was asked.
        let doc: DocumentMut = out.parse().unwrap();
        let services = doc["services"].as_array_of_tables().unwrap();
        assert_eq!(services.len(), 2);
        assert_eq!(services.get(0).unwrap()["price_sat"].as_integer(), Some(5));
    }

    #[test]
    fn a_new_service_is_appended_and_a_deleted_one_is_gone() {
        let out = put_service(
            FILE,
            "search",
            &json!({"name": "search", "upstream": "http://127.0.0.1:3", "price_sat": 1,
                    "capabilities": ["fast"], "upstream_headers": {"x-key": {"env": "KEY"}}}),
        )
        .unwrap();
        let doc: DocumentMut = out.parse().unwrap();
        let services = doc["services"].as_array_of_tables().unwrap();
        assert_eq!(services.len(), 3);
        let search = services.get(2).unwrap();
        assert_eq!(search["name"].as_str(), Some("search"));
        assert_eq!(search["capabilities"].as_array().unwrap().len(), 1);
        assert_eq!(
            search["upstream_headers"]["x-key"]["env"].as_str(),
            Some("KEY")
        );
        let out = delete_service(&out, "weather").unwrap();
        assert!(!out.contains("weather\""), "{out}");
        assert!(out.contains("name = \"maps\""));
        assert_eq!(
            delete_service(&out, "weather"),
            Err(EditError::NoSuchService("weather".into()))
        );
    }

    #[test]
    fn what_cannot_be_written_is_refused_with_the_reason() {
        let bad = |v: Value| put_service(FILE, "weather", &v).unwrap_err();
        assert!(matches!(bad(json!([1])), EditError::BadService(_)));
        assert!(matches!(
            bad(json!({"name": "maps"})),
            EditError::BadService(m) if m.contains("must agree")
        ));
        assert!(matches!(
            bad(json!({"memo": null})),
            EditError::BadService(m) if m.contains("`memo` is null")
        ));
        assert!(matches!(
            bad(json!({"price_sat": u64::MAX})),
            EditError::BadService(m) if m.contains("does not fit")
        ));
        assert!(matches!(
            put_service("services = 3\n", "x", &json!({})),
            Err(EditError::NotServiceTables)
        ));
        assert!(matches!(
            put_service("[[services]\n", "x", &json!({})),
            Err(EditError::Unparsable(_))
        ));
        // A file with no service yet gets its first.
        let out = put_service("data_dir = \"d\"\n", "x", &json!({"upstream": "http://h"})).unwrap();
        assert!(
            out.contains("[[services]]\nname = \"x\"\nupstream = \"http://h\""),
            "{out}"
        );
    }
}
