// Command scratchpad runs the Scratchpad web app and its operator commands.
//
//	scratchpad [serve]                 run the app (the default)
//	scratchpad migrate                 apply database migrations
//	scratchpad user create --email E --password P [--name N] [--admin]
//	scratchpad user grant-admin EMAIL
//	scratchpad token create --email E --name N --scopes read,write [--expires 720h]
//	scratchpad secrets rotate          seal stored secrets again with ENCRYPTION_KEY
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "scratchpad:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg + "\n\n" + usage }

const usage = `usage:
  scratchpad [serve]
  scratchpad migrate
  scratchpad user create --email E --password P [--name N] [--admin]
  scratchpad user grant-admin EMAIL
  scratchpad token create --email E --name N --scopes read,write[,publish,admin] [--expires 720h]
  scratchpad secrets rotate`
