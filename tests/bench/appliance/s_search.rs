//! S4: news search (filled in once the news module lands).

use crate::Ctx;

/// S4.
pub async fn run(_ctx: &mut Ctx) {}
