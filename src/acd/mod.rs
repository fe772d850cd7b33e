//! Automatic call distribution: queues, skills, agent states, routing and the 15-second clock.
//! It emits "offer call C to agent A"; it never speaks SIP.
