//! The referral ledger: which step may follow which, and how long a referral may sit in one
//! state before it counts as stalled.

use chrono::NaiveDate;

use crate::enums::{PartnerKind, ReferralStatus};
use crate::error::DocumentError;
use crate::model::{Referral, ReferralUpdate};

/// The order of the steps a referral goes forward through.
fn rank(status: ReferralStatus) -> Option<u8> {
    match status {
        ReferralStatus::Sent => Some(0),
        ReferralStatus::Received => Some(1),
        ReferralStatus::Approved => Some(2),
        ReferralStatus::Disbursed => Some(3),
        ReferralStatus::Refused | ReferralStatus::Withdrawn => None,
    }
}

/// Whether `to` may follow `from`. A referral goes forward (a step the worker learnt of late,
/// such as a receipt never confirmed, may be skipped), may be refused or withdrawn until it is
/// finished, and never goes back: a refused loan that is tried again is a new referral, so the
/// ledger keeps both outcomes.
pub fn allowed(from: ReferralStatus, to: ReferralStatus) -> Result<(), String> {
    if from.is_final() {
        return Err(format!(
            "a referral that was {} is finished; record a new referral instead",
            from.label_en()
        ));
    }
    if from == to {
        return Err(format!("the referral is already {}", to.label_en()));
    }
    match (rank(from), rank(to)) {
        (_, None) => Ok(()),
        (Some(_), Some(0)) => Err("a referral is sent once, when it is made".into()),
        (Some(a), Some(b)) if b < a => Err(format!(
            "a referral cannot go back from {} to {}",
            from.label_en(),
            to.label_en()
        )),
        _ => Ok(()),
    }
}

/// Checks a step against where the referral stands: the transition, and a date not before the
/// step it follows.
pub fn check_transition(referral: &Referral, update: &ReferralUpdate) -> Result<(), DocumentError> {
    let Some(current) = referral.status() else {
        return Err(DocumentError::Malformed(format!(
            "referral {} has no events",
            referral.id
        )));
    };
    allowed(current.status, update.status).map_err(DocumentError::NotAllowed)?;
    if update.date < current.date {
        return Err(DocumentError::NotAllowed(format!(
            "the date is before the referral's last step ({})",
            crate::date::format_jalali(current.date)
        )));
    }
    Ok(())
}

/// How many days a referral may sit in `status` with a partner of `kind` before it counts as
/// stalled; `None` for finished states. The committee's limits: a bank should confirm receipt
/// in two weeks, decide in a month and pay an approved loan in a month; a clinic works faster,
/// a training centre waits for its next course.
pub fn aging_limit(kind: PartnerKind, status: ReferralStatus) -> Option<u32> {
    use ReferralStatus::*;
    let days = match (kind, status) {
        (_, Disbursed | Refused | Withdrawn) => return None,
        (PartnerKind::Bank, Sent) => 14,
        (PartnerKind::Bank, Received) => 30,
        (PartnerKind::Bank, Approved) => 30,
        (PartnerKind::Clinic, Sent) => 7,
        (PartnerKind::Clinic, Received | Approved) => 14,
        (PartnerKind::TrainingCentre, Sent) => 14,
        (PartnerKind::TrainingCentre, Received | Approved) => 45,
        (PartnerKind::Other, _) => 30,
    };
    Some(days)
}

/// Where a referral stands and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aging {
    pub status: ReferralStatus,
    pub since: NaiveDate,
    pub days: i64,
    /// The limit for this state and partner kind; `None` for a finished referral.
    pub limit: Option<u32>,
}

impl Aging {
    /// Sat longer in its state than its partner kind allows.
    pub fn stalled(&self) -> bool {
        self.limit.is_some_and(|l| self.days > i64::from(l))
    }

    /// The day it became (or becomes) stalled.
    pub fn due(&self) -> Option<NaiveDate> {
        self.limit
            .map(|l| self.since + chrono::Days::new(u64::from(l)))
    }
}

/// How long the referral has sat in its current state on `today`.
pub fn aging(referral: &Referral, today: NaiveDate) -> Option<Aging> {
    let current = referral.status()?;
    Some(Aging {
        status: current.status,
        since: current.date,
        days: (today - current.date).num_days().max(0),
        limit: aging_limit(referral.kind.partner_kind(), current.status),
    })
}

/// The days the referral spent in each state it has left, in order (a state skipped spent
/// none and is not listed).
pub fn days_in_states(referral: &Referral) -> Vec<(ReferralStatus, i64)> {
    referral
        .history
        .windows(2)
        .map(|w| (w[0].status, (w[1].date - w[0].date).num_days().max(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::ReferralKind;
    use crate::model::ReferralEvent;
    use ReferralStatus::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).expect("date")
    }

    fn referral(kind: ReferralKind, steps: &[(ReferralStatus, NaiveDate)]) -> Referral {
        Referral {
            id: uuid::Uuid::now_v7(),
            kind,
            partner: Some("bank-melli-12".into()),
            target: String::new(),
            visit_id: None,
            history: steps
                .iter()
                .map(|(status, date)| ReferralEvent {
                    id: uuid::Uuid::now_v7(),
                    status: *status,
                    date: *date,
                    worker_id: "w".into(),
                    note: String::new(),
                    amount: (*status == Disbursed).then_some(1),
                    reason: None,
                })
                .collect(),
        }
    }

    #[test]
    fn the_ledger_goes_forward_and_never_back() {
        for (from, to) in [
            (Sent, Received),
            (Sent, Approved),
            (Received, Approved),
            (Approved, Disbursed),
            (Sent, Refused),
            (Approved, Refused),
            (Received, Withdrawn),
        ] {
            assert_eq!(allowed(from, to), Ok(()), "{from} → {to}");
        }
        let cases = [
            (
                Approved,
                Received,
                "cannot go back from approved to received by the partner",
            ),
            (
                Refused,
                Approved,
                "a referral that was refused is finished; record a new referral",
            ),
            (Disbursed, Refused, "disbursed or served is finished"),
            (Withdrawn, Sent, "withdrawn is finished"),
            (Approved, Approved, "already approved"),
            (Received, Sent, "sent once"),
        ];
        for (from, to, message) in cases {
            let err = allowed(from, to).expect_err("refused");
            assert!(err.contains(message), "{from} → {to}: {err}");
        }
    }

    #[test]
    fn a_step_dated_before_the_last_is_refused() {
        let r = referral(ReferralKind::BankLoan, &[(Sent, d(3, 10))]);
        let update = ReferralUpdate {
            status: Received,
            date: d(3, 1),
            note: String::new(),
            amount: None,
            reason: None,
        };
        let err = check_transition(&r, &update).expect_err("earlier date");
        assert!(
            err.to_string().contains("before the referral's last step"),
            "{err}"
        );
        let ok = ReferralUpdate {
            date: d(3, 10),
            ..update
        };
        assert!(check_transition(&r, &ok).is_ok());
    }

    #[test]
    fn an_approved_loan_unpaid_for_more_than_thirty_days_is_stalled() {
        let r = referral(
            ReferralKind::BankLoan,
            &[(Sent, d(1, 1)), (Received, d(1, 10)), (Approved, d(2, 1))],
        );
        let on_day_30 = aging(&r, d(3, 3)).expect("aging");
        assert_eq!((on_day_30.status, on_day_30.days), (Approved, 30));
        assert!(!on_day_30.stalled(), "30 days is within the limit");
        let on_day_31 = aging(&r, d(3, 4)).expect("aging");
        assert!(on_day_31.stalled());
        assert_eq!(on_day_31.due(), Some(d(3, 3)));
        // A clinic's referral stalls sooner; a finished one never.
        let clinic = referral(ReferralKind::Health, &[(Sent, d(1, 1))]);
        assert!(aging(&clinic, d(1, 9)).expect("aging").stalled());
        let paid = referral(
            ReferralKind::BankLoan,
            &[(Sent, d(1, 1)), (Disbursed, d(1, 2))],
        );
        assert!(!aging(&paid, d(12, 1)).expect("aging").stalled());
    }

    #[test]
    fn days_in_each_state_are_counted_between_steps() {
        let r = referral(
            ReferralKind::BankLoan,
            &[
                (Sent, d(1, 1)),
                (Received, d(1, 11)),
                (Approved, d(2, 10)),
                (Disbursed, d(3, 2)),
            ],
        );
        assert_eq!(
            days_in_states(&r),
            vec![(Sent, 10), (Received, 30), (Approved, 20)]
        );
    }
}
