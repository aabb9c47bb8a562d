// Package flagalias keeps a renamed command-line flag working under its old name: the old name
// sets the same value, its help says it is deprecated and names the new flag, and the command
// logs a warning when a command line still uses it.
package flagalias

import (
	"flag"
	"log/slog"
)

// Alias is the deprecated old name of a renamed flag.
type Alias struct {
	// Old and New are the flag's names without dashes: the deprecated one and the current one.
	Old, New string
	target   flag.Value
	used     bool
}

// String is the value of the flag it stands for ("" for an Alias that stands for none, as
// the flag package's zero-value check makes).
func (a *Alias) String() string {
	if a == nil || a.target == nil {
		return ""
	}
	return a.target.String()
}

// Set sets the flag it stands for and remembers that the old name was used.
func (a *Alias) Set(s string) error {
	a.used = true
	return a.target.Set(s)
}

// Set is the renamed flags of one command.
type Set []*Alias

// Add defines oldName in fs as a deprecated name of the flag newName, which must be defined
// already; it panics otherwise, as the flag package does for a flag defined twice.
func (s *Set) Add(fs *flag.FlagSet, oldName, newName string) {
	f := fs.Lookup(newName)
	if f == nil {
		panic("flagalias: " + fs.Name() + " has no flag --" + newName + " for --" + oldName + " to stand for")
	}
	a := &Alias{Old: oldName, New: newName, target: f.Value}
	fs.Var(a, oldName, "deprecated: use --"+newName)
	*s = append(*s, a)
}

// Warn logs a warning for each old name the command line used.
func (s Set) Warn(log *slog.Logger) {
	for _, a := range s {
		if a.used {
			log.Warn("Flag renamed: the old name still works but is deprecated", "flag", "--"+a.Old, "use", "--"+a.New)
		}
	}
}
