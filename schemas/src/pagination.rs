//! `pagination` of list requests.

use serde::Deserialize;

use crate::limits::PAGE_SIZE_MAX;
use crate::FieldError;

/// `{pageNumber >= 1, showNumber 1..=1000}`.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    pub page_number: i64,
    pub show_number: i64,
}

impl Pagination {
    pub(crate) fn validate(&self) -> Result<(), FieldError> {
        if self.page_number < 1 {
            return Err(FieldError::new("pagination.pageNumber", "must be at least 1"));
        }
        if !(1..=PAGE_SIZE_MAX).contains(&self.show_number) {
            return Err(FieldError::new(
                "pagination.showNumber",
                format!("must be within 1..={PAGE_SIZE_MAX}"),
            ));
        }
        Ok(())
    }

    /// This page of `items`; past the end, an empty page.
    pub fn page<T>(&self, items: Vec<T>) -> Vec<T> {
        let skip = usize::try_from((self.page_number - 1).saturating_mul(self.show_number)).unwrap_or(usize::MAX);
        items.into_iter().skip(skip).take(self.show_number as usize).collect()
    }
}
