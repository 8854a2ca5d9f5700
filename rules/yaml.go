package rules

import (
	"bytes"
	"strings"

	"gopkg.in/yaml.v3"
)

// rule is one recording or alerting rule as it is written out.
type rule struct {
	comment     string // written above the rule
	record      string
	alert       string
	expr        string
	forDur      string
	labels      [][2]string // in this order
	annotations [][2]string
}

// group is one rule group as it is written out.
type group struct {
	comment  string
	name     string
	interval string
	rules    []rule
}

// encode writes groups as a Prometheus rule file with header as its opening
// comment. Building yaml.Node trees keeps comments and key order stable.
func encode(header string, groups []group) ([]byte, error) {
	list := seq()
	for _, g := range groups {
		gn := mapping(pair("name", str(g.name)), pair("interval", str(g.interval)))
		gn.HeadComment = g.comment
		rl := seq()
		for _, r := range g.rules {
			rl.Content = append(rl.Content, r.node())
		}
		gn.Content = append(gn.Content, str("rules"), rl)
		list.Content = append(list.Content, gn)
	}
	root := mapping(pair("groups", list))
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: header, Content: []*yaml.Node{root}}

	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (r rule) node() *yaml.Node {
	n := mapping()
	n.HeadComment = r.comment
	if r.record != "" {
		n.Content = append(n.Content, str("record"), str(r.record))
	} else {
		n.Content = append(n.Content, str("alert"), str(r.alert))
	}
	n.Content = append(n.Content, str("expr"), block(r.expr))
	if r.forDur != "" {
		n.Content = append(n.Content, str("for"), str(r.forDur))
	}
	if len(r.labels) > 0 {
		n.Content = append(n.Content, str("labels"), pairs(r.labels))
	}
	if len(r.annotations) > 0 {
		n.Content = append(n.Content, str("annotations"), pairs(r.annotations))
	}
	return n
}

func pairs(kv [][2]string) *yaml.Node {
	n := mapping()
	for _, p := range kv {
		n.Content = append(n.Content, str(p[0]), block(p[1]))
	}
	return n
}

func seq() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode} }

func mapping(kv ...[2]*yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, p := range kv {
		n.Content = append(n.Content, p[0], p[1])
	}
	return n
}

func pair(k string, v *yaml.Node) [2]*yaml.Node { return [2]*yaml.Node{str(k), v} }

// str is a scalar that the encoder quotes only when YAML needs it.
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// block is a scalar written as a literal block when it spans lines, so that
// PromQL and templates keep their layout and need no escaping.
func block(s string) *yaml.Node {
	n := str(s)
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}
