//! Loading: SecLang directives → configuration and per-phase compiled rule lists.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rampart_seclang::{Directive, IdRange, Location, ParseError, RuleSpec};

use crate::actions::Actions;
use crate::config::{ConnInfo, EngineConfig};
use crate::rule::{self, Defaults, Rule};
use crate::screen::{self, RuleScreen, Screens};
use crate::template::Template;
use crate::transaction::{Transaction, TxBuffers};

/// A rule-set load failure, with where it happened.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("{location}: {message}")]
    Rule { location: Location, message: String },
}

impl LoadError {
    pub fn location(&self) -> &Location {
        match self {
            LoadError::Parse(p) => &p.location,
            LoadError::Rule { location, .. } => location,
        }
    }
}

/// A rule of a phase's list, with where its `skipAfter` resumes, and what deciding to skip it
/// needs (its id and screen) kept in the list itself: most rules of a request are screened out, and
/// reading their scattered `Rule`s only for that missed the cache on every one.
pub(crate) struct Entry {
    pub rule: Box<Rule>,
    /// Index (in the same phase's list) of the first rule after the `skipAfter` marker: the list's
    /// length when the marker does not follow in this phase (the rest of the phase is skipped).
    pub skip_to: usize,
    pub id: u64,
    /// The head link's screen, moved out of [`Rule::screen`] by the loader.
    pub screen: Option<RuleScreen>,
    /// The rule's outcome in a transaction that started from the TX template, when it is the
    /// same in all (see [`crate::template::fixed_outcomes`]).
    pub fixed: Fixed,
}

/// A MATCHED_VAR name and value.
pub(crate) type FixedHit = (String, Vec<u8>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fixed {
    No,
    /// The rule cannot match.
    NoMatch,
    /// The rule matches, with one hit (its name and value in [`Engine::fixed_hits`]), and does
    /// nothing but set MATCHED_VAR(S) and, with `skips`, jump to its `skipAfter` marker.
    Match {
        hit: u16,
        skips: bool,
    },
}

/// Compiled rules and configuration; `Send + Sync`, share it as `Arc<Engine>`.
pub struct Engine {
    config: EngineConfig,
    /// Index 0 is phase 1 … index 4 is phase 5, each in load order. Markers are resolved into
    /// [`Entry::skip_to`], so skipping costs nothing per skipped rule.
    pub(crate) phases: [Vec<Entry>; 5],
    pub(crate) screens: Screens,
    /// Where phase 1 starts (see [`crate::template`]).
    pub(crate) template: Option<Template>,
    /// The MATCHED_VAR name and value of the [`Fixed::Match`] rules.
    pub(crate) fixed_hits: Vec<FixedHit>,
    rule_count: usize,
    /// Unique per engine built in this process: what a connection remembered about values under
    /// one rule set (see [`crate::screen_memo`]) is not used under another.
    pub(crate) generation: u64,
}

static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .field("rules", &self.rule_count)
            .finish()
    }
}

enum Item {
    Rule(Box<Rule>),
    Marker(Arc<str>),
}

#[derive(Default)]
struct Loader {
    config: EngineConfig,
    items: Vec<Item>,
    defaults: HashMap<u8, Arc<Defaults>>,
}

impl Engine {
    /// Loads SecLang files in order (Include globs resolved relative to the including file).
    pub fn from_files(paths: &[PathBuf]) -> Result<Engine, LoadError> {
        let mut l = Loader::default();
        for p in paths {
            let directives = rampart_seclang::load_file(p)?;
            l.apply_all(directives)?;
        }
        Ok(l.finish())
    }

    /// Loads SecLang text; `origin` names it in errors (e.g. "<inline>"). Includes resolve against
    /// the current directory.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str, origin: &str) -> Result<Engine, LoadError> {
        let mut l = Loader::default();
        let directives = rampart_seclang::parse(text, origin)?;
        let mut resolved = Vec::new();
        for d in directives {
            match d {
                Directive::Include {
                    location,
                    pattern,
                    optional,
                } => {
                    let path = Path::new(&pattern);
                    if !path.exists() && optional {
                        continue;
                    }
                    let sub = rampart_seclang::load_file(path).map_err(|e| {
                        if e.location.line == 0 {
                            LoadError::Rule {
                                location: location.clone(),
                                message: e.message,
                            }
                        } else {
                            LoadError::Parse(e)
                        }
                    })?;
                    resolved.extend(sub);
                }
                other => resolved.push(other),
            }
        }
        l.apply_all(resolved)?;
        Ok(l.finish())
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Number of rules (chains count once).
    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    pub fn transaction(&self, conn: ConnInfo) -> Transaction<'_> {
        Transaction::new(self, conn)
    }

    /// A transaction that starts with the buffers of a finished one
    /// ([`Transaction::into_buffers`]); it behaves exactly as one from [`Engine::transaction`].
    pub fn transaction_reusing(&self, conn: ConnInfo, buffers: TxBuffers) -> Transaction<'_> {
        Transaction::new_with(self, conn, buffers)
    }
}

impl Loader {
    fn apply_all(&mut self, directives: Vec<Directive>) -> Result<(), LoadError> {
        for d in directives {
            self.apply(d)?;
        }
        Ok(())
    }

    fn rules_mut(&mut self) -> impl Iterator<Item = &mut Rule> {
        self.items.iter_mut().filter_map(|i| match i {
            Item::Rule(r) => Some(&mut **r),
            Item::Marker(_) => None,
        })
    }

    fn apply(&mut self, d: Directive) -> Result<(), LoadError> {
        let fail = |location: &Location, message: String| LoadError::Rule {
            location: location.clone(),
            message,
        };
        match d {
            Directive::Rule(spec) => self.add_rule(&spec)?,
            Directive::Action { location, actions } => {
                let spec = RuleSpec {
                    location,
                    variables: Vec::new(),
                    operator: rampart_seclang::OperatorSpec {
                        negated: false,
                        name: "unconditionalMatch".into(),
                        argument: String::new(),
                    },
                    actions,
                    chained: None,
                };
                self.add_rule(&spec)?
            }
            Directive::Marker { name, .. } => self.items.push(Item::Marker(Arc::from(name))),
            Directive::DefaultAction { location, actions } => {
                let a = Actions::parse(&actions).map_err(|m| fail(&location, m))?;
                let phase = a.phase.unwrap_or(2);
                let d = Defaults::from_actions(&a).map_err(|m| fail(&location, m))?;
                self.defaults.insert(phase, Arc::new(d));
            }
            Directive::RemoveById { ranges, .. } => self
                .items
                .retain(|i| !matches!(i, Item::Rule(r) if ranges.iter().any(|x| x.contains(r.id)))),
            Directive::RemoveByTag { tag, .. } => self
                .items
                .retain(|i| !matches!(i, Item::Rule(r) if r.tags.contains(&tag))),
            Directive::RemoveByMsg { msg, .. } => self
                .items
                .retain(|i| !matches!(i, Item::Rule(r) if r.msg_text().is_some_and(|m| m == msg.as_bytes()))),
            Directive::UpdateTargetById {
                location,
                ranges,
                targets,
            } => self.update_targets(&location, &targets, |r| {
                ranges.iter().any(|x: &IdRange| x.contains(r.id))
            })?,
            Directive::UpdateTargetByTag {
                location,
                tag,
                targets,
            } => self.update_targets(&location, &targets, |r| r.tags.contains(&tag))?,
            Directive::UpdateActionById { location, .. } => {
                return Err(fail(&location, "SecRuleUpdateActionById is not supported".into()))
            }
            Directive::Include { location, .. } => {
                return Err(fail(&location, "Include must be resolved by the loader".into()))
            }
            Directive::Config { location, name, args } => {
                self.config.apply(&name, &args).map_err(|m| fail(&location, m))?
            }
        }
        Ok(())
    }

    fn add_rule(&mut self, spec: &RuleSpec) -> Result<(), LoadError> {
        let base: PathBuf = Path::new(&*spec.location.file)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let defaults = |p: u8| self.defaults.get(&p).cloned();
        let r = rule::compile(spec, &base, &defaults)
            .map_err(|(location, message)| LoadError::Rule { location, message })?;
        if self
            .items
            .iter()
            .any(|i| matches!(i, Item::Rule(x) if x.id == r.id))
        {
            return Err(LoadError::Rule {
                location: spec.location.clone(),
                message: format!("duplicate rule id {}", r.id),
            });
        }
        self.items.push(Item::Rule(Box::new(r)));
        Ok(())
    }

    fn update_targets(
        &mut self,
        location: &Location,
        targets: &[rampart_seclang::VariableSpec],
        select: impl Fn(&Rule) -> bool,
    ) -> Result<(), LoadError> {
        let fail = |m: String| LoadError::Rule {
            location: location.clone(),
            message: m,
        };
        for r in self.rules_mut().filter(|r| select(r)) {
            for t in targets {
                if t.exclude {
                    r.exclusions.push(rule::exclusion_of(t).map_err(fail)?);
                } else {
                    r.targets.push(rule::target_of(t).map_err(fail)?);
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Engine {
        let mut phases: [Vec<Entry>; 5] = Default::default();
        // Per phase: (marker name, index of the first rule after it).
        let mut markers: [Vec<(Arc<str>, usize)>; 5] = Default::default();
        let mut rule_count = 0;
        let mut chains: HashMap<Vec<usize>, u32> = HashMap::new();
        for item in self.items {
            match item {
                Item::Rule(mut r) => {
                    let mut link: Option<&mut Rule> = Some(&mut r);
                    while let Some(l) = link {
                        let key: Vec<usize> = l.transforms.iter().map(|t| *t as usize).collect();
                        let next = chains.len() as u32;
                        l.chain_id = *chains.entry(key).or_insert(next);
                        l.excluded_vars = l.exclusions.iter().fold(0, |m, e| m | e.var.bit());
                        link = l.chain.as_deref_mut();
                    }
                    rule_count += 1;
                    let idx = (r.phase.clamp(1, 5) - 1) as usize;
                    let id = r.id;
                    phases[idx].push(Entry {
                        rule: r,
                        skip_to: 0,
                        id,
                        screen: None,
                        fixed: Fixed::No,
                    });
                }
                Item::Marker(m) => {
                    for (p, list) in markers.iter_mut().enumerate() {
                        list.push((m.clone(), phases[p].len()));
                    }
                }
            }
        }
        for (list, marks) in phases.iter_mut().zip(&markers) {
            let len = list.len();
            for (i, e) in list.iter_mut().enumerate() {
                e.skip_to = match &e.rule.skip_after {
                    Some(name) => marks
                        .iter()
                        .find(|(m, at)| *at > i && **m == **name)
                        .map_or(len, |(_, at)| *at),
                    None => len,
                };
            }
        }
        for e in phases.iter_mut().flatten() {
            e.rule.tx_check = e.rule.single_tx_target();
        }
        // The template and the fixed outcomes come first (neither uses a screen): they tell which
        // rules no transaction reaches, whose literals would only crowd the screens.
        let mut engine = Engine {
            config: self.config,
            phases,
            screens: Screens::default(),
            template: None,
            fixed_hits: Vec::new(),
            rule_count,
            generation: GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        };
        engine.template = Transaction::build_template(&engine);
        if let Some(t) = &engine.template {
            let (fixed, hits) = crate::template::fixed_outcomes(&engine, t);
            for (p, i, f) in fixed {
                engine.phases[p][i].fixed = f;
            }
            engine.fixed_hits = hits;
        }
        let reach: Vec<Vec<bool>> = engine.phases.iter().map(|l| reachable(l)).collect();
        engine.screens = screen::build(engine.phases.iter_mut().zip(&reach).flat_map(|(l, r)| {
            l.iter_mut()
                .zip(r)
                .filter(|(_, ok)| **ok)
                .map(|(e, _)| &mut *e.rule)
        }));
        for e in engine.phases.iter_mut().flatten() {
            e.screen = e.rule.screen.take();
        }
        engine
    }
}

/// Which rules of a phase's list some transaction may evaluate, following the jumps the fixed
/// outcomes decide at load time: at paranoia level 1 the `"@lt 2"` rules always jump over the
/// higher levels' rules. An unreachable rule gets no screen: should it run after all (a `ctl`
/// removing the jumping rule), it is evaluated in full, which is slower but the same.
fn reachable(list: &[Entry]) -> Vec<bool> {
    let len = list.len();
    let mut reach = vec![false; len + 1];
    if let Some(r) = reach.first_mut() {
        *r = true;
    }
    for (i, e) in list.iter().enumerate() {
        if !reach[i] {
            continue;
        }
        match e.fixed {
            Fixed::NoMatch | Fixed::Match { skips: false, .. } => reach[i + 1] = true,
            Fixed::Match { skips: true, .. } => reach[e.skip_to.min(len)] = true,
            Fixed::No => {
                reach[i + 1] = true;
                if e.rule.skip_after.is_some() {
                    reach[e.skip_to.min(len)] = true;
                }
                let skip = e.rule.skip as usize;
                if skip > 0 {
                    reach[(i + 1 + skip).min(len)] = true;
                }
            }
        }
    }
    reach.truncate(len);
    reach
}
