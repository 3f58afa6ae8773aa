/// Who issues a command, as authenticated by the API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    pub user_id: String,
    /// App admins act for anyone.
    pub is_admin: bool,
}

impl Actor {
    /// May this actor act on behalf of `user_id`?
    pub fn acts_for(&self, user_id: &str) -> bool {
        self.is_admin || self.user_id == user_id
    }
}
