//! A JSON value read with its duplicates noted: serde_json's `Value` keeps the last of a member
//! given twice, silently. The token decoder refuses such a header or payload; a sign-in record
//! with one is that record's error while the rest of its export is still read, which is why the
//! duplicate is noted rather than raised as a parse error.

use serde_json::{Map, Value};

/// Inserts a member; the name when the object already held it (no copy of it otherwise).
pub fn insert(map: &mut Map<String, Value>, name: String, value: Value) -> Option<String> {
    match map.entry(name) {
        serde_json::map::Entry::Occupied(mut held) => {
            held.insert(value);
            Some(held.key().clone())
        }
        serde_json::map::Entry::Vacant(slot) => {
            slot.insert(value);
            None
        }
    }
}

/// A JSON value and the first member name found twice in one of its objects (serde_json's
/// `Value` would keep the last silently).
pub struct Checked(pub Value, pub Option<String>);

impl<'de> serde::Deserialize<'de> for Checked {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> serde::de::Visitor<'de> for CheckedVisitor {
    type Value = Checked;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Checked, E> {
        Ok(Checked(Value::Bool(v), None))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Checked, E> {
        Ok(Checked(Value::from(v), None))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Checked, E> {
        Ok(Checked(Value::from(v), None))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Checked, E> {
        Ok(Checked(Value::from(v), None))
    }
    fn visit_str<E>(self, v: &str) -> Result<Checked, E> {
        Ok(Checked(Value::String(v.to_owned()), None))
    }
    fn visit_string<E>(self, v: String) -> Result<Checked, E> {
        Ok(Checked(Value::String(v), None))
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked(Value::Null, None))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        let (mut items, mut twice) = (Vec::new(), None);
        while let Some(Checked(item, inner)) = seq.next_element()? {
            items.push(item);
            twice = twice.or(inner);
        }
        Ok(Checked(Value::Array(items), twice))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Checked, A::Error> {
        let (mut map, mut twice) = (Map::new(), None);
        while let Some(name) = access.next_key::<String>()? {
            let Checked(value, inner) = access.next_value()?;
            let again = insert(&mut map, name, value);
            twice = twice.or(inner).or(again);
        }
        Ok(Checked(Value::Object(map), twice))
    }
}
