//! `userlist` sections: users with their passwords and groups, for `http_auth`,
//! `http_auth_group` and `http-request auth`.

use crate::ir::Config;
use crate::registry::SectionKind;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserPlan {
    pub name: String,
    /// `password`: a crypt(3) hash; `insecure-password`: the password itself.
    pub password: String,
    pub hashed: bool,
    /// The groups the user belongs to, from its `groups` option and the groups' `users`.
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserlistPlan {
    pub name: String,
    pub users: Vec<UserPlan>,
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Every userlist section, with each user's groups gathered from both directions.
pub fn lower(config: &Config) -> Vec<UserlistPlan> {
    config
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Userlist)
        .map(|s| {
            let mut users: Vec<UserPlan> = Vec::new();
            let mut group_members: Vec<(String, Vec<String>)> = Vec::new();
            for line in &s.lines {
                let args: Vec<&str> = line.args.iter().map(|a| a.as_str()).collect();
                let after = |key: &str| {
                    args.iter()
                        .position(|a| *a == key)
                        .and_then(|i| args.get(i + 1).copied())
                };
                match line.keyword.as_str() {
                    "group" => {
                        let name = args.first().copied().unwrap_or("").to_string();
                        group_members.push((name, list(after("users"))));
                    }
                    "user" => {
                        let (password, hashed) =
                            match (after("password"), after("insecure-password")) {
                                (Some(p), _) => (p, true),
                                (None, Some(p)) => (p, false),
                                (None, None) => ("", false),
                            };
                        users.push(UserPlan {
                            name: args.first().copied().unwrap_or("").to_string(),
                            password: password.to_string(),
                            hashed,
                            groups: list(after("groups")),
                        });
                    }
                    _ => {}
                }
            }
            for (group, members) in &group_members {
                for user in users.iter_mut().filter(|u| members.contains(&u.name)) {
                    if !user.groups.contains(group) {
                        user.groups.push(group.clone());
                    }
                }
            }
            UserlistPlan {
                name: s.name.as_ref().map_or("", |n| n.value.as_str()).to_string(),
                users,
            }
        })
        .collect()
}
