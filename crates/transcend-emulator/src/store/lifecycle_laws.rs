//! The laws of a request's lifecycle, checked over random requests and random
//! sequences of events.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use transcend_proto::types::{
    DsrRecord, DsrStatus, RequestAction, RequestStatus, Subject, SubmitDsr, Timestamp,
};

use super::super::is_open;
use super::*;
use crate::config::LifecycleConfig;

/// A request to run, and how its workflow is set up.
#[derive(Debug, Clone)]
struct Setup {
    action: RequestAction,
    lifecycle: LifecycleConfig,
    /// Each silo: a cron silo or not.
    silos: Vec<bool>,
    /// Each enricher: without a webhook or not.
    enrichers: Vec<bool>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop_oneof![
            Just(RequestAction::Access),
            Just(RequestAction::Erasure),
            Just(RequestAction::ContactOptOut)
        ],
        any::<bool>(),
        prop_oneof![Just(0u64), Just(1_000)],
        prop_oneof![Just(0u64), Just(1_000)],
        proptest::collection::vec(any::<bool>(), 0..4),
        proptest::collection::vec(any::<bool>(), 0..3),
    )
        .prop_map(|(action, approval, wait, secondary, silos, enrichers)| {
            let lifecycle = LifecycleConfig {
                approval,
                waiting_period_ms: wait,
                secondary_ms: secondary,
                download_window_secs: 1,
                ..LifecycleConfig::default()
            };
            Setup {
                action,
                lifecycle,
                silos,
                enrichers,
            }
        })
}

/// Something that may happen to a request from outside, besides its silos and
/// enrichers doing their work.
#[derive(Debug, Clone)]
enum Disturbance {
    Hold,
    Resume,
    RetrySilo(usize),
    RetryEnricher(usize),
    SkipEnricher(usize),
    SetSilo(usize, JobStatus),
    Cancel,
    Restart,
    Approve,
    Tick,
}

fn disturbance() -> impl Strategy<Value = Disturbance> {
    prop_oneof![
        Just(Disturbance::Hold),
        Just(Disturbance::Resume),
        (0usize..4).prop_map(Disturbance::RetrySilo),
        (0usize..3).prop_map(Disturbance::RetryEnricher),
        (0usize..3).prop_map(Disturbance::SkipEnricher),
        (
            0usize..4,
            prop_oneof![
                Just(JobStatus::Resolved),
                Just(JobStatus::Skipped),
                Just(JobStatus::Waiting),
                Just(JobStatus::ActionRequired)
            ]
        )
            .prop_map(|(i, s)| Disturbance::SetSilo(i, s)),
        Just(Disturbance::Cancel),
        Just(Disturbance::Restart),
        Just(Disturbance::Approve),
        Just(Disturbance::Tick),
    ]
}

/// A request and a clock that moves only when told.
struct Run {
    setup: Setup,
    request: RequestState,
    now: Instant,
    /// Every webhook delivery loop started, by silo and round.
    loops: Vec<(String, u32)>,
    /// Effects not yet carried out.
    pending: Vec<Effect>,
}

impl Run {
    fn new(setup: Setup) -> Self {
        let now = Instant::now();
        let submission = SubmitDsr::new(setup.action.clone(), Subject::new("person"), "customer");
        let record = DsrRecord::new(DsrStatus::new(
            "r".to_owned(),
            RequestStatus::RequestMade,
            setup.action.clone(),
            "customer".to_owned(),
            None,
            "person".to_owned(),
        ));
        let request = RequestState::new(0, record, &submission, wall(), &at(now), setup.lifecycle);
        let mut run = Self {
            setup,
            request,
            now,
            loops: Vec::new(),
            pending: Vec::new(),
        };
        let enrichers = run
            .setup
            .enrichers
            .iter()
            .enumerate()
            .map(|(i, manual)| (format!("enricher-{i}"), *manual))
            .collect();
        let silos = run.silos();
        run.event(Event::Submitted {
            completed: None,
            enrichers,
            silos,
        });
        run
    }

    fn silos(&self) -> Vec<SiloPlan> {
        self.setup
            .silos
            .iter()
            .enumerate()
            .map(|(i, pull)| SiloPlan {
                id: format!("silo-{i}"),
                expected: Vec::new(),
                pull: *pull,
            })
            .collect()
    }

    fn status(&self) -> RequestStatus {
        self.request.record.status.clone()
    }

    /// Applies an event; a refusal must leave the request as it was.
    fn event(&mut self, event: Event) {
        let before = (self.status(), self.request.timeline.len());
        match self.request.apply(event, &at(self.now)) {
            Ok(effects) => {
                for effect in &effects {
                    if let Effect::DeliverJob { silo, round } = effect {
                        self.loops.push((silo.clone(), *round));
                    }
                }
                self.pending.extend(effects);
            }
            Err(_) => assert_eq!(before, (self.status(), self.request.timeline.len())),
        }
    }

    /// The silos and enrichers do their work: every effect carried out, every open
    /// job answered and reported as done.
    fn work(&mut self) {
        for effect in std::mem::take(&mut self.pending) {
            match effect {
                Effect::StartSilos => {
                    let silos = self.silos();
                    self.event(Event::Proceed { silos });
                }
                Effect::DeliverEnrichment { enricher, .. } => {
                    self.event(Event::EnricherDelivered {
                        enricher,
                        delivery: delivery(),
                        status: Some(EnricherStatus::Resolved),
                    })
                }
                Effect::DeliverJob { silo, .. } => self.event(Event::JobDelivered {
                    silo,
                    delivery: delivery(),
                    status: Some(JobStatus::Waiting),
                }),
                Effect::Wake(_) => {}
            }
        }
        let manual: Vec<String> = self
            .request
            .enrichers
            .iter()
            .filter(|(_, view)| view.status == EnricherStatus::Waiting)
            .map(|(id, _)| id.clone())
            .collect();
        for enricher in manual {
            self.event(Event::Enriched {
                enricher,
                status: EnricherStatus::Resolved,
            });
        }
        let open: Vec<String> = self
            .request
            .jobs
            .values()
            .filter(|job| {
                matches!(
                    job.view.status,
                    JobStatus::Waiting | JobStatus::ActionRequired | JobStatus::Error
                )
            })
            .map(|job| job.view.data_silo_id.clone())
            .collect();
        for silo in open {
            if self.request.accepts_report(&silo).is_ok() {
                if let Some(job) = self.request.jobs.get_mut(&silo) {
                    job.view.status = JobStatus::Resolved;
                }
                self.event(Event::Reported { silo });
            }
        }
    }

    /// Time passes until the pending step is due, and it is taken.
    fn tick(&mut self) {
        if let Some((due, step)) = self.request.due {
            self.now = self.now.max(due) + Duration::from_millis(1);
            self.request.due = None;
            self.event(Event::TimePassed(step));
        }
    }

    fn disturb(&mut self, disturbance: &Disturbance) {
        let silo = |i: usize| format!("silo-{i}");
        let enricher = |i: usize| format!("enricher-{i}");
        match disturbance {
            Disturbance::Hold => self.event(Event::Held),
            Disturbance::Resume => self.event(Event::Resumed),
            Disturbance::RetrySilo(i) => {
                let pull = self.setup.silos.get(*i).copied().unwrap_or(false);
                self.event(Event::SiloRetried {
                    silo: silo(*i),
                    pull,
                })
            }
            Disturbance::RetryEnricher(i) => {
                let manual = self.setup.enrichers.get(*i).copied().unwrap_or(false);
                self.event(Event::EnricherRetried {
                    enricher: enricher(*i),
                    manual,
                })
            }
            Disturbance::SkipEnricher(i) => self.event(Event::EnricherSkipped {
                enricher: enricher(*i),
            }),
            Disturbance::SetSilo(i, status) => self.event(Event::SiloSet {
                silo: silo(*i),
                status: *status,
            }),
            Disturbance::Cancel => self.event(Event::Ended(RequestStatus::Canceled)),
            Disturbance::Restart => {
                let silos = self.silos();
                self.event(Event::Restarted { silos })
            }
            Disturbance::Approve => self.event(Event::Approved),
            Disturbance::Tick => self.tick(),
        }
    }

    /// The request left alone but for its silos, its enrichers, a person who
    /// approves and resumes what waits for them, and the clock: it must finish.
    fn settle(&mut self) {
        for _ in 0..64 {
            if !is_open(&self.status()) {
                return;
            }
            self.work();
            match self.status() {
                RequestStatus::Approving | RequestStatus::SecondaryApproving => {
                    self.event(Event::Approved)
                }
                RequestStatus::OnHold => self.event(Event::Resumed),
                _ => self.tick(),
            }
        }
    }
}

fn wall() -> Timestamp {
    Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap()
}

fn at(instant: Instant) -> Now {
    Now {
        instant,
        wall: wall(),
    }
}

fn delivery() -> Delivery {
    Delivery {
        attempt: 1,
        at: wall(),
        status: Some(200),
        outcome: "accepted".into(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Every request reaches the end of its life once its silos and enrichers
    /// answer, it is approved when it must be and taken off hold, whatever else
    /// happened to it on the way (holds, retries, silos set by hand, restarts).
    #[test]
    fn every_request_finishes_once_its_silos_answer_and_it_is_approved(
        setup in setup(),
        disturbances in proptest::collection::vec(disturbance(), 0..12),
    ) {
        let mut run = Run::new(setup);
        for disturbance in &disturbances {
            run.disturb(disturbance);
            run.work();
        }
        run.settle();
        prop_assert!(!is_open(&run.status()), "still {} after settling", run.status());
    }

    /// No event moves a finished request, but a restart.
    #[test]
    fn only_a_restart_leaves_a_finished_request(
        setup in setup(),
        disturbances in proptest::collection::vec(disturbance(), 0..24),
    ) {
        let mut run = Run::new(setup);
        for disturbance in &disturbances {
            let before = run.status();
            let timeline = run.request.timeline.len();
            run.disturb(disturbance);
            run.work();
            if !is_open(&before) && !matches!(disturbance, Disturbance::Restart) {
                prop_assert_eq!(&run.status(), &before, "{:?} moved a finished request", disturbance);
                prop_assert_eq!(run.request.timeline.len(), timeline);
            }
        }
    }

    /// A silo never has two delivery loops alive for one request: every webhook loop
    /// started has a round of its own, never reused (not after a retry, not after a
    /// restart), and a request holds one job per silo.
    #[test]
    fn no_silo_gets_two_live_jobs_for_one_request(
        setup in setup(),
        disturbances in proptest::collection::vec(disturbance(), 0..24),
    ) {
        let mut run = Run::new(setup);
        for disturbance in &disturbances {
            run.disturb(disturbance);
            run.work();
            let mut silos = HashSet::new();
            for job in run.request.jobs.values() {
                prop_assert!(silos.insert(job.view.data_silo_id.clone()), "two jobs for one silo");
            }
        }
        run.settle();
        let mut started = HashSet::new();
        for loop_ in &run.loops {
            prop_assert!(started.insert(loop_.clone()), "two loops share {:?}", loop_);
        }
        let live: Vec<_> = run
            .request
            .jobs
            .values()
            .filter(|job| matches!(job.view.status, JobStatus::Delivering | JobStatus::DeliveryFailed))
            .collect();
        for job in live {
            let loops = run.loops.iter().filter(|(silo, round)| *silo == job.view.data_silo_id && *round == job.round).count();
            prop_assert!(loops <= 1);
        }
    }
}
