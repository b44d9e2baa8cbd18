//! Running actions through the journal: plan, apply (journal first), undo, confirm.

use crate::action::{Outcome, Plan};
use crate::actions;
use crate::env::Env;
use crate::error::{RespondError, Result};
use crate::journal::{Entry, Journal, State};
use crate::spec::ActionSpec;

/// What `apply` did.
#[derive(Debug)]
pub struct Applied {
    pub id: String,
    pub outcome: Outcome,
    /// Unix time by which `rampart respond confirm` must run, for guarded actions.
    pub confirm_deadline: Option<u64>,
}

pub fn plan(env: &Env, spec: &ActionSpec) -> Result<Plan> {
    actions::build(spec)?.plan(env)
}

/// Plans (all input errors here, nothing changed), journals, applies and verifies.
/// On failure, what was done is reverted and the entry is marked failed.
pub fn apply(env: &Env, spec: &ActionSpec) -> Result<Applied> {
    let action = actions::build(spec)?;
    let plan = action.plan(env)?;
    let journal = Journal::open(&env.journal_dir)?;
    let _guarded = if plan.needs_confirm {
        Some(journal.lock()?)
    } else {
        None
    };
    if plan.needs_confirm {
        roll_back_overdue(env, &journal)?;
        // Two pending rollbacks would restore each other's "before" states in the wrong
        // order; one guarded change at a time.
        let (records, _) = journal.list()?;
        if let Some(r) = records.iter().find(|r| r.awaiting_confirm()) {
            return Err(RespondError::Precondition(format!(
                "{} ({}) is still waiting for `rampart respond confirm`; confirm or undo it first",
                r.id, r.action
            )));
        }
    }
    let mut entry = journal.create(&spec.to_string(), action.name(), env, plan.changes.clone())?;
    env.step("journaled");
    let outcome = match action.apply(env, &mut entry) {
        Ok(o) => o,
        Err(e) => {
            let undo = action.undo(env, &entry);
            entry.record.error = Some(e.to_string());
            match undo {
                Ok(lines) => entry
                    .record
                    .notes
                    .extend(lines.into_iter().map(|l| format!("reverted: {l}"))),
                Err(u) => entry.note(format!("revert after the failure also failed: {u}")),
            }
            entry.set_state(State::Failed)?;
            return Err(e);
        }
    };
    entry.reload()?;
    entry.record.notes.extend(outcome.done.iter().cloned());
    entry.set_state(State::Applied)?;
    if !plan.needs_confirm {
        if let Err(e) = action.verify(env, &entry) {
            entry.record.error = Some(format!("verify: {e}"));
            entry.commit()?;
            return Err(e);
        }
        entry.set_state(State::Verified)?;
    }
    Ok(Applied {
        id: entry.record.id.clone(),
        outcome,
        confirm_deadline: entry.record.confirm_deadline,
    })
}

/// Which entries `undo` reverts.
#[derive(Debug, Clone)]
pub enum Which {
    Id(String),
    Last,
    All,
}

/// Reverts entries (newest first for `All`); returns (id, what was done) per entry.
pub fn undo(env: &Env, which: &Which) -> Result<Vec<(String, Vec<String>)>> {
    let journal = Journal::open(&env.journal_dir)?;
    let (records, _) = journal.list()?;
    let undoable = |s: State| s != State::Undone;
    let ids: Vec<String> = match which {
        Which::Id(id) => vec![id.clone()],
        Which::Last => records
            .iter()
            .rev()
            .find(|r| undoable(r.state))
            .map(|r| vec![r.id.clone()])
            .ok_or_else(|| {
                RespondError::Input("nothing to undo: every journaled action is already undone".into())
            })?,
        Which::All => records
            .iter()
            .rev()
            .filter(|r| undoable(r.state))
            .map(|r| r.id.clone())
            .collect(),
    };
    let mut done = Vec::new();
    for id in ids {
        let mut entry = journal.load(&id)?;
        let _lock = entry.lock()?;
        entry.reload()?;
        done.push((id, undo_entry(env, &mut entry, "undone")?));
    }
    Ok(done)
}

/// Reverts one loaded, locked entry with the environment it was applied in.
pub fn undo_entry(env: &Env, entry: &mut Entry, why: &str) -> Result<Vec<String>> {
    if entry.record.state == State::Undone {
        return Err(RespondError::Input(format!(
            "{} is already undone",
            entry.record.id
        )));
    }
    let spec = ActionSpec::parse_str(&entry.record.action)?;
    let action = actions::build(&spec)?;
    let mut target = entry.record.env.clone();
    target.force = env.force;
    target.session = env.session.clone();
    let lines = action.undo(&target, entry)?;
    entry.note(why.to_string());
    entry.record.confirm_deadline = None;
    entry.set_state(State::Undone)?;
    Ok(lines)
}

/// Confirms every action waiting for it; returns (id, what was done) per entry.
/// How long past its deadline an unconfirmed change may stay before Rampart concludes
/// that its rollback timer is gone (a reboot, a killed timer) and rolls it back itself.
pub const OVERDUE_GRACE_SECS: u64 = 5;

/// Rolls back every change still waiting for confirmation well past its deadline: the
/// detached rollback did not run, and a late confirm must not keep an unverified change.
pub fn roll_back_overdue(env: &Env, journal: &Journal) -> Result<Vec<(String, Vec<String>)>> {
    let (records, _) = journal.list()?;
    let now = crate::fsutil::now();
    let mut done = Vec::new();
    for r in records.iter().filter(|r| r.awaiting_confirm()) {
        if r.confirm_deadline.is_some_and(|d| now > d + OVERDUE_GRACE_SECS) {
            let mut entry = journal.load(&r.id)?;
            let _lock = entry.lock()?;
            entry.reload()?;
            if entry.record.awaiting_confirm() {
                let why = "rolled back: not confirmed in time and the rollback timer was gone (reboot?)";
                done.push((r.id.clone(), undo_entry(env, &mut entry, why)?));
            }
        }
    }
    Ok(done)
}

pub fn confirm(env: &Env) -> Result<Vec<(String, Vec<String>)>> {
    let journal = Journal::open(&env.journal_dir)?;
    let late = roll_back_overdue(env, &journal)?;
    if let Some((id, _)) = late.first() {
        return Err(RespondError::Input(format!(
            "too late: {id} was not confirmed before its deadline and has been rolled back now"
        )));
    }
    let (records, _) = journal.list()?;
    let waiting: Vec<String> = records
        .iter()
        .filter(|r| r.awaiting_confirm())
        .map(|r| r.id.clone())
        .collect();
    if waiting.is_empty() {
        return Err(RespondError::Input(
            "nothing is waiting for confirmation (already confirmed, or rolled back after the timeout)"
                .into(),
        ));
    }
    let mut out = Vec::new();
    for id in waiting {
        let mut entry = journal.load(&id)?;
        let _lock = entry.lock()?;
        entry.reload()?;
        if !entry.record.awaiting_confirm() {
            continue;
        }
        let spec = ActionSpec::parse_str(&entry.record.action)?;
        let action = actions::build(&spec)?;
        let mut target = entry.record.env.clone();
        target.force = env.force;
        target.session = env.session.clone();
        target.crash_at = env.crash_at.clone();
        let lines = action.confirm(&target, &mut entry)?;
        entry.record.confirmed = true;
        entry.record.notes.push("confirmed".into());
        entry.record.notes.extend(lines.iter().cloned());
        entry.commit()?;
        action.verify(&target, &entry)?;
        entry.set_state(State::Verified)?;
        out.push((id, lines));
    }
    Ok(out)
}
