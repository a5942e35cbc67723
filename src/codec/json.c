/* SPDX-License-Identifier: MIT */
/*
 * hale's values as JSON (codec/json.h).
 */
#include "codec/json.h"

#include <stdio.h>

#include "base/clock.h"
#include "base/strbuf.h"

json_t *codec_json_text(const char *s)
{
    if (!s)
        return json_null();
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_add_utf8(&b, s);
    json_t *j = json_stringn(b.s, b.len);
    strbuf_fini(&b);
    return j;
}

json_t *codec_json_time(int64_t ms)
{
    char buf[CLOCK_RFC3339_MAX];
    if (ms <= 0 || clock_format_rfc3339_ms((uint64_t)ms, buf) < 0)
        return json_null();
    return json_string(buf);
}

json_t *codec_json_labels(const struct labels *l)
{
    json_t *o = json_object();
    for (size_t i = 0; i < l->n; i++)
        json_object_set_new(o, l->v[i].name, codec_json_text(l->v[i].value));
    return o;
}

#define TEXT(s)  codec_json_text(s)
#define TIME(ms) codec_json_time(ms)

json_t *codec_json_incident(const struct incident *i)
{
    char priority[16];
    snprintf(priority, sizeof(priority), "P%u", i->priority);
    json_t *o = json_pack(
            "{s:I, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o,"
            " s:o, s:o, s:o, s:I, s:o, s:o}",
            "id", (json_int_t)i->id, "type", incident_type_name(i->type), "title", TEXT(i->title),
            "fingerprint", TEXT(i->fingerprint), "labels", codec_json_labels(&i->labels),
            "severity", incident_severity_name(i->severity), "priority", priority, "category",
            incident_category_name(i->category), "team", TEXT(i->team), "assignee",
            TEXT(i->assignee), "check", TEXT(i->check), "state", incident_state_name(i->state),
            "opened", TIME(i->opened_ms), "acknowledged", TIME(i->acknowledged_ms), "resolved",
            TIME(i->resolved_ms), "closed", TIME(i->closed_ms), "resolved_by", TEXT(i->resolved_by),
            "root_cause", TEXT(i->root_cause), "reopened", (json_int_t)i->reopened, "problem",
            i->problem_id ? json_integer(i->problem_id) : json_null(), "updated",
            TIME(i->updated_ms));
    if (!o)
        return NULL;
    /* What the engine knows of it. */
    json_object_set_new(o, "service", TEXT(i->service));
    json_object_set_new(o, "symptom_of", i->symptom_of ? json_integer(i->symptom_of) : json_null());
    json_object_set_new(o, "runbook", TEXT(i->runbook));
    json_object_set_new(o, "events", json_integer(i->events));
    json_object_set_new(o, "repeats", json_integer(i->repeats));
    return o;
}

json_t *codec_json_fingerprint(uint64_t fp)
{
    char buf[17];
    snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)fp);
    return json_string(buf);
}

json_t *codec_json_event(const struct store_event *ev)
{
    json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)ev->id,
                          "incident", ev->incident_id ? json_integer(ev->incident_id) : json_null(),
                          "received", TIME(ev->received_ms), "source", TEXT(ev->source), "status",
                          TEXT(ev->status), "severity", TEXT(ev->severity), "fingerprint",
                          codec_json_fingerprint(ev->fingerprint), "labels",
                          codec_json_labels(&ev->labels), "annotations",
                          codec_json_labels(&ev->annotations));
    if (!o)
        return NULL;
    json_object_set_new(o, "summary", TEXT(ev->summary));
    json_object_set_new(o, "starts", TIME(ev->starts_ms));
    json_object_set_new(o, "ends", TIME(ev->ends_ms));
    json_object_set_new(o, "verdict", TEXT(ev->verdict));
    json_object_set_new(o, "silence", ev->silence_id ? json_integer(ev->silence_id) : json_null());
    json_object_set_new(o, "sender", TEXT(ev->sender));
    json_object_set_new(o, "reason", TEXT(ev->reason));
    /* The same event again on its open incident: counted here, not listed again. */
    json_object_set_new(o, "repeats", json_integer(ev->repeats));
    json_object_set_new(o, "last_received", TIME(ev->last_ms));
    return o;
}

/* Stored JSON (a timeline entry's data, an audit entry's detail) as JSON when it parses, else as
 * text. */
static json_t *stored_json(const char *s)
{
    json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : json_null();
    return v ? v : TEXT(s);
}

json_t *codec_json_timeline_entry(const struct timeline_entry *t)
{
    json_t *data = stored_json(t->data);
    return json_pack("{s:I, s:o, s:s, s:o, s:o, s:o}", "id", (json_int_t)t->id, "time",
                     TIME(t->time_ms), "kind", timeline_kind_name(t->kind), "actor", TEXT(t->actor),
                     "text", TEXT(t->text), "data", data);
}

json_t *codec_json_problem(const struct problem *p)
{
    if (!p)
        return json_null();
    return json_pack("{s:I, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:I}", "id", (json_int_t)p->id,
                     "title", TEXT(p->title), "fingerprint", TEXT(p->fingerprint), "state",
                     problem_state_name(p->state), "root_cause", TEXT(p->root_cause), "workaround",
                     TEXT(p->workaround), "opened", TIME(p->opened_ms), "resolved",
                     TIME(p->resolved_ms), "updated", TIME(p->updated_ms), "incidents",
                     (json_int_t)p->incidents);
}

json_t *codec_json_audit_entry(const struct audit_entry *a)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)a->id, "time",
                     TIME(a->time_ms), "actor", TEXT(a->actor), "action", TEXT(a->action), "target",
                     TEXT(a->target), "origin", TEXT(a->origin), "detail", stored_json(a->detail));
}
