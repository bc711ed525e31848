#pragma once
// A small value-or-error type (std::expected arrives in C++23; this project is C++20).

#include <cassert>
#include <utility>
#include <variant>

namespace acctlab {

// A constructor, not an aggregate: clang 14 has no parenthesised aggregate initialisation, and
// Unexpected(x) must compile with both compilers.
template <class E> struct Unexpected {
  explicit Unexpected(E e) : error(std::move(e)) {}
  E error;
};
template <class E> Unexpected(E) -> Unexpected<E>;

/** Holds either a value of T or an error of E; never throws on access misuse in release builds. */
template <class T, class E> class Expected {
public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Expected(Unexpected<E> failure) : state_(std::in_place_index<1>, std::move(failure.error)) {}

  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    assert(has_value());
    return *std::get_if<0>(&state_);
  }
  const T& value() const& {
    assert(has_value());
    return *std::get_if<0>(&state_);
  }
  T&& value() && {
    assert(has_value());
    return std::move(*std::get_if<0>(&state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const {
    assert(!has_value());
    return *std::get_if<1>(&state_);
  }

private:
  std::variant<T, E> state_;
};

} // namespace acctlab
