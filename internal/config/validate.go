package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// parsePolicy decodes the policy JSON and checks each value on its own
// (type, range, format). Cross-setting checks are in (*Policy).check.
func parsePolicy(data []byte, source string, loc locator) (*Policy, []Problem) {
	p := newPolicy(source)
	var problems []Problem
	at := func(off int, k Key, warn bool, format string, args ...any) {
		where, line, col := loc(off)
		problems = append(problems, Problem{Where: where, Line: line, Column: col, Key: k, Message: fmt.Sprintf(format, args...), Warning: warn})
	}

	body := data
	bom := 0
	if bytes.HasPrefix(body, utf8BOM) {
		bom = len(utf8BOM)
		body = body[bom:]
	}
	if len(bytes.TrimSpace(body)) == 0 {
		at(0, "", false, "the file is empty: a policy is a JSON object such as { \"environment\": \"prod\" }")
		return p, problems
	}
	if !utf8.Valid(body) {
		at(bom+invalidUTF8Offset(body), "", false, "the file is not UTF-8 text: save it as UTF-8 (in Notepad: Save As, Encoding UTF-8)")
		return p, problems
	}
	var top any
	if err := json.Unmarshal(body, &top); err != nil {
		off, msg := explainSyntaxError(body, err)
		at(bom+off, "", false, "%s", msg)
		return p, problems
	}
	if _, ok := top.(map[string]any); !ok {
		at(bom+firstNonSpace(body), "", false, "the policy must be a JSON object: start the file with { and end it with }")
		return p, problems
	}

	members, err := objectMembers(body)
	if err != nil { // cannot happen after a successful Unmarshal; stay safe
		at(bom, "", false, "the file could not be read as JSON: %v", err)
		return p, problems
	}
	seen := map[string]int{}
	for _, m := range members {
		if prev, dup := seen[m.key]; dup {
			_, line, _ := loc(bom + prev)
			at(bom+m.keyOff, Key(m.key), false, "%q is set twice (first on line %d): keep only one", m.key, line)
			continue
		}
		seen[m.key] = m.keyOff
		s, ok := specFor(Key(m.key))
		if !ok {
			msg := fmt.Sprintf("%q is not a setting Triage Desk knows", m.key)
			if sug := suggest(m.key); sug != "" {
				msg += fmt.Sprintf(" – did you mean %q?", sug)
			} else {
				msg += "."
			}
			msg += " Unknown settings are refused so that a misspelt one cannot silently do nothing."
			at(bom+m.keyOff, Key(m.key), false, "%s", msg)
			continue
		}
		where, line, col := loc(bom + m.keyOff)
		valAt := func(off int, warn bool, format string, args ...any) {
			at(bom+off, s.key, warn, format, args...)
		}
		v, elems, ok := decodeValue(s, m.raw, m.valOff, valAt)
		if !ok {
			continue
		}
		p.vals[s.key] = v
		p.pos[s.key] = elemPos{where: where, line: line, column: col}
		p.from[s.key] = source
		for _, off := range elems {
			w, line, col := loc(bom + off)
			p.elems[s.key] = append(p.elems[s.key], elemPos{where: w, line: line, column: col})
		}
	}
	return p, problems
}

var (
	odsPattern      = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,200}$`)
	acrPattern      = regexp.MustCompile(`^[A-Za-z0-9_]+( [A-Za-z0-9_]+)*$`)
)

// decodeValue checks one value against its spec and returns the decoded
// value (string, int, bool or []string) and, for lists, the offset of each
// element. ok is false when the value was reported as unusable.
func decodeValue(s spec, raw json.RawMessage, off int, problem func(off int, warn bool, format string, args ...any)) (v any, elems []int, ok bool) {
	name := string(s.key)
	str := func() (string, bool) {
		var x string
		if err := json.Unmarshal(raw, &x); err != nil {
			problem(off, false, "%s must be text in double quotes (found %s)", name, describe(raw))
			return "", false
		}
		return x, true
	}
	switch s.kind {
	case kindString, kindURL:
		x, ok := str()
		if !ok {
			return nil, nil, false
		}
		x = strings.TrimSpace(x)
		if x == "" {
			problem(off, false, "%s is empty: give a value or remove the setting", name)
			return nil, nil, false
		}
		switch s.key {
		case KeyClientID:
			if !clientIDPattern.MatchString(x) {
				problem(off, false, "client_id %q is not an API Platform key: copy it exactly from the NHS developer hub (letters, digits, - . _ ~; no spaces)", x)
				return nil, nil, false
			}
		case KeyACRValues:
			if !acrPattern.MatchString(x) {
				problem(off, false, "acr_values %q is not valid: use values such as AAL3_ANY or AAL2_OR_AAL3_ANY, separated by single spaces", x)
				return nil, nil, false
			}
		case KeyKeychainService, keyComment:
			if len(x) > 500 {
				problem(off, false, "%s is too long (more than 500 characters)", name)
				return nil, nil, false
			}
		}
		if s.kind == kindURL {
			x = strings.TrimRight(x, "/")
		}
		return x, nil, true
	case kindEnum:
		x, ok := str()
		if !ok {
			return nil, nil, false
		}
		if !slices.Contains(s.enum, x) {
			problem(off, false, "%s must be one of %s (found %q)", name, quoteList(s.enum), x)
			return nil, nil, false
		}
		return x, nil, true
	case kindInt:
		if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '"' {
			hint := ""
			var text string
			if json.Unmarshal(t, &text) == nil && intText.MatchString(strings.TrimSpace(text)) {
				hint = ": remove the quotes"
			}
			problem(off, false, "%s must be a whole number%s (found %s%s)", name, unitPhrase(s), describe(raw), hint)
			return nil, nil, false
		}
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&n); err != nil {
			problem(off, false, "%s must be a whole number%s (found %s)", name, unitPhrase(s), describe(raw))
			return nil, nil, false
		}
		i, err := strconv.Atoi(n.String())
		if err != nil {
			problem(off, false, "%s must be a whole number%s (found %s)", name, unitPhrase(s), n)
			return nil, nil, false
		}
		if i < s.min || i > s.max {
			if s.key == keyVersion {
				problem(off, false, "version %d is not supported by this Triage Desk: use 1, or update Triage Desk", i)
			} else {
				problem(off, false, "%s must be between %d and %d%s (found %d)", name, s.min, s.max, unitSuffix(s), i)
			}
			return nil, nil, false
		}
		return i, nil, true
	case kindBool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			problem(off, false, "%s must be true or false, without quotes (found %s)", name, describe(raw))
			return nil, nil, false
		}
		return b, nil, true
	case kindODSList, kindDateList, kindKeyList:
		t := bytes.TrimSpace(raw)
		if len(t) == 0 || t[0] != '[' {
			problem(off, false, "%s must be a list in square brackets, e.g. %s (found %s)", name, listExample(s.kind), describe(raw))
			return nil, nil, false
		}
		items, offs, err := arrayElements(raw)
		if err != nil {
			problem(off, false, "%s could not be read as a list: %v", name, err)
			return nil, nil, false
		}
		var out []string
		var outOffs []int
		good := true
		for i, it := range items {
			eoff := off + offs[i]
			var x string
			if err := json.Unmarshal(it, &x); err != nil {
				problem(eoff, false, "each item of %s must be text in double quotes (found %s)", name, describe(it))
				good = false
				continue
			}
			x = strings.TrimSpace(x)
			written := x
			switch s.kind {
			case kindODSList:
				up := strings.ToUpper(x)
				if !odsPattern.MatchString(up) {
					problem(eoff, false, "%q is not an ODS code: ODS codes are 3 to 10 letters and digits, e.g. RXX or RXX01", x)
					good = false
					continue
				}
				x = up
			case kindDateList:
				d, err := time.Parse(time.DateOnly, x)
				if err != nil {
					problem(eoff, false, "%q is not a date: write dates as YYYY-MM-DD, e.g. 2026-12-29", x)
					good = false
					continue
				}
				if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
					problem(eoff, true, "%s is a %s, which is not a working day anyway", x, wd)
				}
			case kindKeyList:
				k := Key(x)
				ks, known := specFor(k)
				if !known || k == keyVersion || k == keyComment {
					msg := fmt.Sprintf("%q in locked is not a setting Triage Desk knows", x)
					if sug := suggest(x); sug != "" {
						msg += fmt.Sprintf(" – did you mean %q?", sug)
					}
					problem(eoff, false, "%s", msg)
					good = false
					continue
				}
				if !ks.user {
					problem(eoff, true, "%q is set only by the machine policy, so users cannot change it anyway; it need not be listed in locked", x)
				}
			}
			if slices.Contains(out, x) {
				problem(eoff, true, "%q is listed twice in %s", written, name)
				continue
			}
			out = append(out, x)
			outOffs = append(outOffs, eoff)
		}
		if !good {
			return nil, nil, false
		}
		if len(out) == 0 && s.kind == kindODSList {
			problem(off, true, "allowed_ods_codes is an empty list, which allows every organisation; list the ODS codes or remove the setting")
		}
		if out == nil {
			out = []string{}
		}
		return out, outOffs, true
	}
	return nil, nil, false
}

func unitPhrase(s spec) string {
	if s.unit == "" {
		return ""
	}
	return " of " + s.unit
}

func unitSuffix(s spec) string {
	if s.unit == "" {
		return ""
	}
	return " " + s.unit
}

func listExample(k kind) string {
	switch k {
	case kindODSList:
		return `["RXX", "RXX01"]`
	case kindDateList:
		return `["2026-12-29"]`
	}
	return `["theme", "prefetch"]`
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// check runs the checks that involve more than one setting: URLs against the
// environment, the secret source against the broker and keychain settings,
// the sync and retention bounds. Problems point at the setting concerned.
func (p *Policy) check() []Problem {
	var problems []Problem
	at := func(k Key, warn bool, format string, args ...any) {
		pr := Problem{Key: k, Message: fmt.Sprintf(format, args...), Warning: warn}
		if pos, ok := p.pos[k]; ok {
			pr.Where, pr.Line, pr.Column = pos.where, pos.line, pos.column
		}
		problems = append(problems, pr)
	}
	if !p.Managed() {
		return nil
	}
	env, hasEnv := p.str(KeyEnvironment)
	envName := EnvironmentName(env)
	userURLs, _ := p.bool(KeyUserMayOverride)

	for _, k := range []Key{KeyFHIRBaseURL, KeyAuthBaseURL, KeyPDSBaseURL, KeyBrokerURL} {
		u, ok := p.str(k)
		if !ok {
			continue
		}
		if k != KeyBrokerURL && !hasEnv {
			at(k, false, "%s needs environment: add \"environment\" to say which environment this address is for", k)
			continue
		}
		if msg := checkURL(u, envName.AllowsLoopbackHTTP()); msg != "" {
			at(k, false, "%s %s", k, msg)
		}
	}
	if hasEnv {
		switch envName {
		case EnvLocal:
			if !p.Has(KeyFHIRBaseURL) && !userURLs {
				at(KeyEnvironment, false, "environment is local but fhir_base_url is missing: add the development server's address, or set user_may_override_urls to true")
			}
		case EnvNHSSandbox:
			for _, k := range []Key{KeyAuthBaseURL, KeyClientID, KeySecretSource, KeyBrokerURL, KeyKeychainService} {
				if p.Has(k) {
					at(k, true, "%s is not used: the NHS sandbox has no sign-in", k)
				}
			}
		case EnvInt, EnvProd:
			if !p.Has(KeyClientID) {
				at(KeyEnvironment, true, "environment is %s but client_id is not set: sign-in will not work until it is set (here, or with the installer's CLIENT_ID property)", env)
			}
			if !p.Has(KeySecretSource) {
				at(KeyEnvironment, true, "environment is %s but secret_source is not set: sign-in will not work until it is \"keychain\" or \"broker\"", env)
			}
		case EnvDemo:
			if p.Has(KeyFHIRBaseURL) || p.Has(KeyAuthBaseURL) || p.Has(KeyPDSBaseURL) {
				at(KeyEnvironment, true, "the demo environment uses its built-in sandbox; fhir_base_url, auth_base_url and pds_base_url are ignored")
			}
		}
		if envName == EnvProd && userURLs {
			at(KeyUserMayOverride, true, "user_may_override_urls is true for the live service: users could send patient data to any https address")
		}
	}

	src, hasSrc := p.str(KeySecretSource)
	switch {
	case src == string(SecretBroker) && !p.Has(KeyBrokerURL):
		at(KeySecretSource, false, "secret_source is \"broker\" but broker_url is missing: add the token broker's https:// address")
	case p.Has(KeyBrokerURL) && !hasSrc:
		at(KeyBrokerURL, false, "broker_url is set but secret_source is missing: add \"secret_source\": \"broker\"")
	case p.Has(KeyBrokerURL) && src != string(SecretBroker):
		at(KeyBrokerURL, false, "broker_url is set but secret_source is %q: set secret_source to \"broker\" or remove broker_url", src)
	}
	switch {
	case p.Has(KeyKeychainService) && !hasSrc:
		at(KeyKeychainService, false, "keychain_service is set but secret_source is missing: add \"secret_source\": \"keychain\"")
	case p.Has(KeyKeychainService) && src != string(SecretKeychain):
		at(KeyKeychainService, false, "keychain_service is set but secret_source is %q: set secret_source to \"keychain\" or remove keychain_service", src)
	}
	if src == string(SecretNone) && (envName == EnvInt || envName == EnvProd) {
		at(KeySecretSource, false, "secret_source is \"none\" but the NHS API Platform (%s) always needs a client secret: use \"keychain\" or \"broker\"", env)
	}

	smin, hasMin := p.int(KeySyncIntervalMin)
	smax, hasMax := p.int(KeySyncIntervalMax)
	if hasMin && hasMax && smin > smax {
		at(KeySyncIntervalMin, false, "sync_interval_min_minutes (%d) is more than sync_interval_max_minutes (%d)", smin, smax)
	}
	if iv, ok := p.int(KeySyncInterval); ok {
		lo, hi := DefaultSyncMinMinutes, DefaultSyncMaxMinutes
		if hasMin {
			lo = smin
		}
		if hasMax {
			hi = smax
		}
		if iv < lo || iv > hi {
			at(KeySyncInterval, false, "sync_interval_minutes (%d) is outside the allowed range %d to %d minutes (sync_interval_min_minutes and sync_interval_max_minutes)", iv, lo, hi)
		}
	}
	if r, ok := p.int(KeySentRetentionDays); ok {
		if rmax, ok := p.int(KeySentRetentionMax); ok && r > rmax {
			at(KeySentRetentionDays, false, "sent_retention_days (%d) is more than sent_retention_max_days (%d)", r, rmax)
		}
	}
	return problems
}

// sortProblems orders problems by position, keeping the order of problems
// without one.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Column - b.Column
	})
}
