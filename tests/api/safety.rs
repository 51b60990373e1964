//! Content safety (issue 22): the local list (normalised, block refuses without naming the
//! word, review holds until approved), the moderation queue, WeChat msgSecCheck (risky refuses,
//! down holds), the gate on nicknames and activity reviews, and review photos held for moderation.

mod gate;
mod photos;
mod wechat;

pub use crate::tickets::{
    Desk, desk, desk_with, mine, num, open, queue, reply, staff, ticket_body,
};
