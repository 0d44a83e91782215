//! Graduation: whether a household's plan is achieved by its criteria, and what is missing
//! when it is not. The app proposes graduation when the criteria hold; a supervisor confirms.

use crate::enums::HouseholdStatus;
use crate::model::{GraduationCriteria, Household};

/// One criterion that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet {
    /// The household is not active (already graduated, suspended or closed).
    NotActive(HouseholdStatus),
    /// No plan: a household graduates from a plan, not by default.
    NoGoals,
    /// A goal with steps still open or none done.
    GoalOpen { title: String, open_steps: usize },
    /// Fewer assessed visits than the criteria ask for.
    TooFewAssessments { have: usize, need: u8 },
    /// An assessment among the last ones scored a need above the threshold.
    NeedAbove { highest: u8, threshold: u8 },
}

impl Unmet {
    pub fn label_en(&self) -> String {
        match self {
            Self::NotActive(s) => format!("the household is {}", s.label_en()),
            Self::NoGoals => "the household has no plan goals".into(),
            Self::GoalOpen { title, open_steps } => {
                format!("goal \"{title}\" is not met ({open_steps} steps open)")
            }
            Self::TooFewAssessments { have, need } => {
                format!("{have} assessed visits, {need} in a row are needed")
            }
            Self::NeedAbove { highest, threshold } => format!(
                "a need scored {highest} on the last assessments, above the threshold {threshold}"
            ),
        }
    }

    pub fn label_fa(&self) -> String {
        let fa = crate::text::persian_digits;
        match self {
            Self::NotActive(s) => format!("وضعیت خانوار «{}» است", s.label_fa()),
            Self::NoGoals => "خانوار برنامهٔ توانمندسازی (هدف) ندارد".into(),
            Self::GoalOpen { title, open_steps } => format!(
                "هدف «{title}» محقق نشده است ({} گام باز)",
                fa(&open_steps.to_string())
            ),
            Self::TooFewAssessments { have, need } => format!(
                "{} بازدید با ارزیابی نیاز ثبت شده؛ {} بازدید پیاپی لازم است",
                fa(&have.to_string()),
                fa(&need.to_string())
            ),
            Self::NeedAbove { highest, threshold } => format!(
                "در ارزیابی‌های اخیر نیازی با امتیاز {} ثبت شده که از سقف {} بیشتر است",
                fa(&highest.to_string()),
                fa(&threshold.to_string())
            ),
        }
    }
}

/// The outcome of checking a household against its graduation criteria.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraduationCheck {
    pub criteria: GraduationCriteria,
    pub goals: usize,
    pub goals_met: usize,
    /// The highest need score of each of the last assessed visits, latest first.
    pub recent_highest: Vec<u8>,
    pub unmet: Vec<Unmet>,
}

impl GraduationCheck {
    /// Every criterion holds: graduation is proposed.
    pub fn holds(&self) -> bool {
        self.unmet.is_empty()
    }

    pub fn unmet_en(&self) -> Vec<String> {
        self.unmet.iter().map(Unmet::label_en).collect()
    }

    pub fn unmet_fa(&self) -> Vec<String> {
        self.unmet.iter().map(Unmet::label_fa).collect()
    }
}

/// Checks the criteria: every goal met, and the highest need score at or below the threshold
/// on each of the last `visits` visits that assessed needs (consecutive: a later assessment
/// above the threshold breaks the run).
pub fn graduation(household: &Household) -> GraduationCheck {
    let criteria = household.criteria;
    let mut unmet = Vec::new();
    if household.status != HouseholdStatus::Active {
        unmet.push(Unmet::NotActive(household.status));
    }
    if household.goals.is_empty() {
        unmet.push(Unmet::NoGoals);
    }
    for goal in household.goals.iter().filter(|g| !g.is_met()) {
        unmet.push(Unmet::GoalOpen {
            title: goal.title.clone(),
            open_steps: goal.steps.iter().filter(|s| s.status().is_open()).count(),
        });
    }
    let recent_highest: Vec<u8> = household
        .visits
        .iter()
        .rev()
        .filter_map(|v| v.max_need())
        .take(usize::from(criteria.visits))
        .collect();
    if recent_highest.len() < usize::from(criteria.visits) {
        unmet.push(Unmet::TooFewAssessments {
            have: recent_highest.len(),
            need: criteria.visits,
        });
    }
    if let Some(highest) = recent_highest.iter().copied().max()
        && highest > criteria.threshold
    {
        unmet.push(Unmet::NeedAbove {
            highest,
            threshold: criteria.threshold,
        });
    }
    GraduationCheck {
        criteria,
        goals: household.goals.len(),
        goals_met: household.goals.iter().filter(|g| g.is_met()).count(),
        recent_highest,
        unmet,
    }
}
