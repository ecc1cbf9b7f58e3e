#pragma once

#include <caf/atom.hpp>

/// The project's atoms (at most 10 characters each in CAF 0.17).
namespace chat::atom {

/// A worker joins the pool.
using join = caf::atom_constant<caf::atom("join")>;
/// Ask for a snapshot.
using get = caf::atom_constant<caf::atom("get")>;
/// Periodic self-message of polling actors.
using poll = caf::atom_constant<caf::atom("poll")>;
/// Generate tokens for a sequence.
using generate = caf::atom_constant<caf::atom("generate")>;
/// Cancel a sequence.
using cancel = caf::atom_constant<caf::atom("cancel")>;
/// Ask every worker for its status.
using status = caf::atom_constant<caf::atom("status")>;
/// Load a model version next to the ones being served.
using load = caf::atom_constant<caf::atom("load")>;
/// Make a model version the one served by default.
using activate = caf::atom_constant<caf::atom("activate")>;
/// Internal wake-up of a worker's engine results.
using step = caf::atom_constant<caf::atom("step")>;

/// The job runner got a job from the store (or none).
using claimed = caf::atom_constant<caf::atom("claimed")>;
/// A job's data preparation ended.
using prepared = caf::atom_constant<caf::atom("prepared")>;
/// The store recorded a job's events and read its cancel flag.
using synced = caf::atom_constant<caf::atom("synced")>;
/// The store answered a job event feed.
using fed = caf::atom_constant<caf::atom("fed")>;

} // namespace chat::atom
