package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/placement-exporter/placement_exporter/internal/suggest"
)

// positions finds the lines of keys in the decoded YAML tree, so that errors
// found after decoding still point at the right line.
type positions struct{ root *yaml.Node }

func mappingValue(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

func (p positions) doc() *yaml.Node {
	if p.root == nil || len(p.root.Content) == 0 {
		return nil
	}
	return p.root.Content[0]
}

// top returns the line of a top-level key, or 0.
func (p positions) top(key string) int {
	if k, _ := mappingValue(p.doc(), key); k != nil {
		return k.Line
	}
	return 0
}

// target returns the line of a key of targets[i], or of the target itself
// when key is empty or absent.
func (p positions) target(i int, key string) int {
	_, seq := mappingValue(p.doc(), "targets")
	if seq == nil || seq.Kind != yaml.SequenceNode || i >= len(seq.Content) {
		return p.top("targets")
	}
	item := seq.Content[i]
	if key != "" {
		if k, _ := mappingValue(item, key); k != nil {
			return k.Line
		}
	}
	return item.Line
}

var (
	yamlLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type config\.(\w+)$`)
	cannotDecode = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (.*)$")
	syntaxLine   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// places names the YAML types for error messages.
var places = map[string]any{
	"Config":   Config{},
	"Target":   Target{},
	"Settings": Settings{},
}

// yamlError rewrites a yaml.v3 error as one error per problem, each with
// the file and line and what to do about it.
func yamlError(file string, err error, root *yaml.Node) error {
	var le *lineError
	if errors.As(err, &le) {
		if key := keyAt(root, le.line, le.value); key != "" {
			return &Error{file, le.line, key + ": " + le.msg}
		}
		return &Error{file, le.line, le.msg}
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := err.Error()
		if m := syntaxLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &Error{file, line, "YAML syntax error: " + m[2] + " (check indentation and quoting)"}
		}
		return &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ") + " (the file must be YAML)"}
	}
	var errs []error
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			errs = append(errs, &Error{File: file, Msg: e})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		errs = append(errs, &Error{file, line, explain(m[2], root, line)})
	}
	return errors.Join(errs...)
}

func explain(msg string, root *yaml.Node, line int) string {
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		where := map[string]string{"Config": "at the top level", "Target": "in a target", "Settings": "in a models: entry"}[m[2]]
		known := yamlKeys(reflect.TypeOf(places[m[2]]))
		hint := ""
		if s := suggest.Closest(m[1], known); s != "" {
			hint = fmt.Sprintf("did you mean %q? ", s)
		}
		return fmt.Sprintf("unknown key %q %s (%sknown keys: %s)", m[1], where, hint, strings.Join(known, ", "))
	}
	if m := cannotDecode.FindStringSubmatch(msg); m != nil {
		want := map[string]string{
			"int": "a whole number", "float64": "a number", "bool": "true or false",
			"string": "a string",
		}[m[3]]
		if want == "" {
			want = "a " + strings.TrimPrefix(strings.TrimPrefix(m[3], "[]"), "map[string]") + " value"
			if strings.HasPrefix(m[3], "[]") {
				want = "a list"
			} else if strings.HasPrefix(m[3], "map[") {
				want = "a mapping of keys to values"
			} else if strings.HasPrefix(m[3], "*config.Target") || strings.HasPrefix(m[3], "config.") {
				want = "a mapping of keys to values"
			}
		}
		if key := keyAt(root, line, m[2]); key != "" {
			return fmt.Sprintf("%s: cannot use %q here: expected %s", key, m[2], want)
		}
		return fmt.Sprintf("cannot use %q here: expected %s", m[2], want)
	}
	return msg
}

// keyAt returns the key whose value is the scalar v on the given line.
func keyAt(n *yaml.Node, line int, v string) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if val := n.Content[i+1]; val.Line == line && val.Value == v {
				return n.Content[i].Value
			}
		}
	}
	for _, c := range n.Content {
		if k := keyAt(c, line, v); k != "" {
			return k
		}
	}
	return ""
}

// yamlKeys lists the YAML keys of a struct type, inline structs included.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
		case opts == "inline":
			keys = append(keys, yamlKeys(f.Type)...)
		case name != "":
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	return keys
}

// fraction is a whole-number key given a fractional value.
type fraction struct {
	key, value string
	*yaml.Node
}

// wholeKeys are the keys whose values are counts. YAML decoding into an
// integer drops a fraction silently, so they are checked in the tree.
var wholeKeys = map[string]bool{
	"gpus_per_replica": true, "replicas": true, "min_containers": true, "max_concurrent_polls": true,
}

// fractions returns every count in the file written with a fraction.
func (p positions) fractions() []fraction {
	var out []fraction
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if wholeKeys[k.Value] && v.Kind == yaml.ScalarNode && v.Tag == "!!float" {
					out = append(out, fraction{k.Value, v.Value, v})
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(p.root)
	return out
}
