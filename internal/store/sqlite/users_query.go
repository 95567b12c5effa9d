package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/internal/auth"
)

// likeEscape escapes LIKE wildcards so user text matches literally.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// sqlValue converts a filter value to its stored form.
func sqlValue(v any) any {
	if t, ok := v.(time.Time); ok {
		return t.UnixMicro()
	}
	return v
}

// userWhere turns the query's conditions into SQL. Field names come only from
// auth.UserFieldTypes, never from the request, so nothing user-written is
// spliced into the statement.
func userWhere(appID int64, q auth.UserQuery) (string, []any, error) {
	where := []string{"app_id = ?"}
	args := []any{appID}
	for _, c := range q.Conds {
		typ, ok := auth.UserFieldTypes[c.Field]
		if !ok {
			return "", nil, fmt.Errorf("sqlite: unknown user field %q", c.Field)
		}
		col := c.Field
		if len(c.Values) == 0 {
			return "", nil, fmt.Errorf("sqlite: condition on %s without values", col)
		}
		switch c.Op {
		case "eq", "ne", "gt", "lt", "gte", "lte":
			if typ == auth.TypeTags && c.Op == "eq" {
				where = append(where, `(',' || user_tags || ',') LIKE ? ESCAPE '\'`)
				args = append(args, "%,"+likeEscape(fmt.Sprint(c.Values[0]))+",%")
				continue
			}
			op := map[string]string{"eq": "=", "ne": "!=", "gt": ">", "lt": "<", "gte": ">=", "lte": "<="}[c.Op]
			if c.Op == "ne" {
				where = append(where, "("+col+" IS NULL OR "+col+" != ?)")
			} else {
				where = append(where, col+" "+op+" ?")
			}
			args = append(args, sqlValue(c.Values[0]))
		case "in", "nin":
			if typ == auth.TypeTags {
				var ors []string
				for _, v := range c.Values {
					ors = append(ors, `(',' || user_tags || ',') LIKE ? ESCAPE '\'`)
					args = append(args, "%,"+likeEscape(fmt.Sprint(v))+",%")
				}
				expr := "(" + strings.Join(ors, " OR ") + ")"
				if c.Op == "nin" {
					expr = "(user_tags IS NULL OR NOT " + expr + ")"
				}
				where = append(where, expr)
				continue
			}
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(c.Values)), ", ")
			if c.Op == "in" {
				where = append(where, col+" IN ("+marks+")")
			} else {
				where = append(where, "("+col+" IS NULL OR "+col+" NOT IN ("+marks+"))")
			}
			for _, v := range c.Values {
				args = append(args, sqlValue(v))
			}
		case "start_with":
			where = append(where, col+` LIKE ? ESCAPE '\'`)
			args = append(args, likeEscape(fmt.Sprint(c.Values[0]))+"%")
		case "contains":
			where = append(where, col+` LIKE ? ESCAPE '\'`)
			args = append(args, "%"+likeEscape(fmt.Sprint(c.Values[0]))+"%")
		case "between":
			if len(c.Values) != 2 {
				return "", nil, fmt.Errorf("sqlite: between on %s needs two values", col)
			}
			where = append(where, col+" BETWEEN ? AND ?")
			args = append(args, sqlValue(c.Values[0]), sqlValue(c.Values[1]))
		default:
			return "", nil, fmt.Errorf("sqlite: unknown operator %q", c.Op)
		}
	}
	return strings.Join(where, " AND "), args, nil
}

func (db *DB) ListUsers(ctx context.Context, appID int64, q auth.UserQuery) ([]auth.User, int, error) {
	where, args, err := userWhere(appID, q)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := "id"
	if q.Sort != "" {
		if _, ok := auth.UserFieldTypes[q.Sort]; !ok {
			return nil, 0, fmt.Errorf("sqlite: unknown sort field %q", q.Sort)
		}
		order = q.Sort
	}
	dir := "ASC"
	if q.Desc {
		dir = "DESC"
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where+
		` ORDER BY `+order+` `+dir+`, id `+dir+` LIMIT ? OFFSET ?`, append(args, limit, q.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *u)
	}
	return out, total, rows.Err()
}
