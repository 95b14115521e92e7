//! The roster: the units that must report, with their groups and the names people type.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterFile {
    #[serde(rename = "unit")]
    pub units: Vec<Unit>,
}

/// One reporting unit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    /// Stable identifier: used for subfolders of the inbox, in summary.json and the archive.
    pub id: String,
    /// The official name, as printed in the consolidated workbook.
    pub name: String,
    /// The group the unit is subtotalled in.
    pub group: String,
    /// Other names people type for the unit (file names, the `Đơn vị báo cáo` cell).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Where reminders go (optional).
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    pub units: Vec<Unit>,
}

impl Roster {
    pub fn from_toml(text: &str) -> Result<Roster, String> {
        let file: RosterFile = toml::from_str(text).map_err(|e| super::toml_error(text, &e))?;
        let roster = Roster { units: file.units };
        roster.check()?;
        Ok(roster)
    }

    fn check(&self) -> Result<(), String> {
        if self.units.is_empty() {
            return Err("unit: danh sách đơn vị trống".into());
        }
        for (i, u) in self.units.iter().enumerate() {
            let ok_id = !u.id.is_empty()
                && u.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !ok_id {
                return Err(format!(
                    "unit[{i}].id: {:?} chỉ được gồm chữ thường không dấu, chữ số, '-' hoặc '_'",
                    u.id
                ));
            }
            if self.units[..i].iter().any(|o| o.id == u.id) {
                return Err(format!("unit[{i}].id: {:?} bị trùng", u.id));
            }
            if u.name.trim().is_empty() {
                return Err(format!("unit[{i}].name: chưa có tên đơn vị"));
            }
            // Groups must be contiguous so subtotals follow roster order.
            if i > 0
                && self.units[i - 1].group != u.group
                && self.units[..i].iter().any(|o| o.group == u.group)
            {
                return Err(format!(
                    "unit[{i}].group: các đơn vị của nhóm {:?} phải đứng liền nhau",
                    u.group
                ));
            }
        }
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.id == id)
    }

    pub fn index(&self, id: &str) -> Option<usize> {
        self.units.iter().position(|u| u.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_roster_has_18_units_in_3_groups() {
        let r = Roster::from_toml(include_str!("../../config/roster.toml")).unwrap();
        assert_eq!(r.units.len(), 18);
        let mut groups: Vec<&str> = r.units.iter().map(|u| u.group.as_str()).collect();
        groups.dedup();
        assert_eq!(
            groups,
            [
                "Huyện ủy, Thành ủy",
                "Đảng ủy trực thuộc",
                "Cơ quan báo chí"
            ]
        );
        assert_eq!(
            r.get("dai-ptth").unwrap().name,
            "Đài Phát thanh - Truyền hình Lâm Đồng"
        );
    }

    #[test]
    fn split_group_is_refused() {
        let text = r#"
            [[unit]]
            id = "a"
            name = "A"
            group = "G1"
            [[unit]]
            id = "b"
            name = "B"
            group = "G2"
            [[unit]]
            id = "c"
            name = "C"
            group = "G1"
        "#;
        let err = Roster::from_toml(text).unwrap_err();
        assert!(err.contains("unit[2].group"), "{err}");
    }
}
