// Package apptest gives tests of the front ends what the façade keeps to
// itself: a workspace's store and engine and the demo sandbox, to arrange
// fixtures and faults. Only tests import it.
package apptest

import (
	"github.com/triagedesk/triagedesk/internal/app"
	"github.com/triagedesk/triagedesk/internal/app/internal/raw"
	"github.com/triagedesk/triagedesk/internal/auth"
	"github.com/triagedesk/triagedesk/internal/engine"
	"github.com/triagedesk/triagedesk/internal/erssandbox"
	"github.com/triagedesk/triagedesk/internal/store"
)

// Store returns the workspace's encrypted store.
func Store(ws *app.Workspace) *store.Store { return raw.Store(ws) }

// Engine returns the workspace's sync engine (nil for a store-only
// workspace).
func Engine(ws *app.Workspace) *engine.Engine { return raw.Engine(ws) }

// Sandbox returns the Runtime's in-process e-RS sandbox (demo only).
func Sandbox(rt *app.Runtime) *erssandbox.Sandbox { return raw.RuntimeSandbox(rt) }

// The sandbox's fixtures and faults, for tests that set them.
type (
	// Faults are the faults the sandbox injects.
	Faults = erssandbox.Faults
	// SandboxConfig configures a sandbox.
	SandboxConfig = erssandbox.Config
)

// PDSScenario names one of the sandbox's special PDS patients
// (Sandbox(rt).ScenarioUBRN finds its referral).
type PDSScenario = erssandbox.PDSScenario

// The sandbox's special PDS patients.
const (
	ScenarioRestricted         = erssandbox.ScenarioRestricted
	ScenarioDeceased           = erssandbox.ScenarioDeceased
	ScenarioSuperseded         = erssandbox.ScenarioSuperseded
	ScenarioNotFound           = erssandbox.ScenarioNotFound
	ScenarioWrongPatientLetter = erssandbox.ScenarioWrongPatientLetter
)

// The sandbox's demo organisation and users.
const (
	ProviderODS        = erssandbox.ProviderODS
	UserClinician      = erssandbox.UserClinician
	UserClinician2     = erssandbox.UserClinician2
	UserClinicianAdmin = erssandbox.UserClinicianAdmin
)

// The sandbox's fault counters (Stats().Faults).
const (
	FaultReset          = erssandbox.FaultReset
	FaultUnavailable    = erssandbox.FaultUnavailable
	FaultDropAfterApply = erssandbox.FaultDropAfterApply
)

// StartSandbox starts an in-process e-RS sandbox (erssandbox.Start).
var StartSandbox = erssandbox.Start

// EngineConfig is the sync engine's configuration, which
// app.Options.EngineTuning adjusts.
type EngineConfig = engine.Config

// LoginHintBrowser returns an openBrowser function for
// Runtime.SignIn that signs in as userID at the demo's mock sign-in.
var LoginHintBrowser = auth.LoginHintBrowser

// Store fixtures: a stored worklist, and where a clinician's store and
// outbox live on disk.
type WorklistSnapshot = store.WorklistSnapshot

// UserDir is the folder of a clinician's store under a data folder.
var UserDir = store.UserDir

// OutboxFile is the outbox's file name in a clinician's store folder.
const OutboxFile = store.OutboxFile
